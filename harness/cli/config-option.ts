import { DEMO_CONFIG } from '../config/files.ts';
import { UsageError } from '../errors.ts';
import type { OptionSpec, ParsedArgs } from './args.ts';

/** `--config FILE` and `--demo`, for the commands that read a config (gate, test, baseline). */
export const CONFIG_OPTIONS = { config: { type: 'string' }, demo: { type: 'boolean' } } as const satisfies Record<
  string,
  OptionSpec
>;

/** The config file the command line names: --config FILE, --demo (the reference app's), else undefined (./dbproof.config.ts). */
export function configFileOption(options: ParsedArgs['options']): string | undefined {
  if (options.demo && options.config)
    throw new UsageError("give --config FILE or --demo (the reference app's demo config), not both");
  return options.demo ? DEMO_CONFIG : (options.config as string | undefined);
}
