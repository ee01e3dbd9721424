import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError, zodIssue } from '../errors.ts';
import { importUserModule } from '../user-module.ts';
import { CONFIG_FILES } from './files.ts';
import { configSchema, type DbproofConfig, type ResolvedConfig } from './schema.ts';

/** Types the config a team writes; returns it as it is. */
export function defineConfig(config: DbproofConfig): DbproofConfig {
  return config;
}

export interface ConfigFile {
  config: ResolvedConfig;
  /** The file it came from; relative paths in it are relative to its folder. */
  file: string;
}

/** Validates a config object; the message names the field and what it should be. */
export function resolveConfig(raw: unknown, file = 'the config'): ResolvedConfig {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new UsageError(`${file}: invalid ${zodIssue(parsed.error, 'config')}`);
}

/**
 * `--config FILE`, else ./dbproof.config.ts (or .mts). No config is a usage error naming
 * `dbproof init`: a gate that quietly ran the reference app's demo would pass without testing
 * the team's app (the demo is asked for by name: `--demo`, `DEMO_CONFIG`).
 */
export async function readConfig(file?: string): Promise<ConfigFile> {
  const found = file || CONFIG_FILES.find((name) => existsSync(name));
  if (!found)
    throw new UsageError(
      `no ${CONFIG_FILES[0]} in ${process.cwd()}: run \`npx dbproof init\` to write one, or pass --config FILE (--demo runs the reference app's demo)`,
    );
  const chosen = path.resolve(found);
  const module = await importUserModule(chosen, '--config');
  if (!module.default || typeof module.default !== 'object')
    throw new UsageError(`${chosen}: export default defineConfig({...}) (from 'dbproof')`);
  return { config: resolveConfig(module.default, path.basename(chosen)), file: chosen };
}
