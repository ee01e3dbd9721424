import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError, zodIssue } from '../errors.ts';
import { packageFile } from '../package-files.ts';
import { importUserModule } from '../user-module.ts';
import { configSchema, type DbproofConfig, type ResolvedConfig } from './schema.ts';

/** The reference app's demo configuration: what `dbproof test` runs with no config anywhere. */
export const DEMO_CONFIG = packageFile('example/dbproof.config.ts');

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

/** `--config FILE`, else ./dbproof.config.ts, else the reference app's demo config. */
export async function readConfig(file?: string): Promise<ConfigFile> {
  const chosen = file
    ? path.resolve(file)
    : existsSync('dbproof.config.ts')
      ? path.resolve('dbproof.config.ts')
      : DEMO_CONFIG;
  const module = await importUserModule(chosen, '--config');
  if (!module.default || typeof module.default !== 'object')
    throw new UsageError(`${chosen}: export default defineConfig({...}) (from 'dbproof')`);
  return { config: resolveConfig(module.default, path.basename(chosen)), file: chosen };
}
