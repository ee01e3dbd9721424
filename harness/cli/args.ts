import { UsageError } from '../errors.ts';

export type OptionSpec = { type: 'boolean' } | { type: 'string'; multiple?: boolean };

export interface ParsedArgs {
  options: Record<string, string | boolean | string[] | undefined>;
  /** Everything after a bare `--` (for `exec`). */
  rest: string[];
  /** Arguments that are not options, where the command takes them (`n1 <url>`). */
  positionals: string[];
}

/**
 * A deliberately small parser: `--name value`, `--name=value`, boolean `--flag`,
 * `--` ends the options. Unlike util.parseArgs it takes the next token as the value
 * even when it starts with a dash, so that `--replicas -1` reaches validation and
 * gets a message about the number rather than about parsing.
 */
export function parseArgs(
  command: string,
  argv: string[],
  spec: Record<string, OptionSpec>,
  allowRest = false,
  allowPositionals = false,
): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const rest: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      if (!allowRest)
        throw new UsageError(`'dbproof ${command}' takes no command after --; see \`dbproof ${command} --help\``);
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      options.help = true;
      continue;
    }
    if (!token.startsWith('--') && allowPositionals) {
      positionals.push(token);
      continue;
    }
    if (!token.startsWith('--')) {
      throw new UsageError(
        allowRest
          ? `unexpected argument '${token}': put the command after --, e.g. \`dbproof ${command} -- npm test\``
          : `unexpected argument '${token}' for 'dbproof ${command}'; see \`dbproof ${command} --help\``,
      );
    }
    const [name, inlineValue] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const option = name === 'help' ? ({ type: 'boolean' } as const) : spec[name];
    if (!option)
      throw new UsageError(`unknown option --${name} for 'dbproof ${command}'; see \`dbproof ${command} --help\``);
    if (option.type === 'boolean') {
      if (inlineValue !== undefined) throw new UsageError(`--${name} takes no value (got '${inlineValue}')`);
      options[name] = true;
    } else {
      const value = inlineValue ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value; see \`dbproof ${command} --help\``);
      if ('multiple' in option && option.multiple)
        options[name] = [...((options[name] as string[] | undefined) ?? []), value];
      else options[name] = value;
    }
  }
  return { options, rest, positionals };
}

/** A whole number within [min, max], or a message that says what was expected. */
export function integerOption(
  name: string,
  raw: string | boolean | string[] | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got '${text}')`);
  }
  return Number(text);
}
