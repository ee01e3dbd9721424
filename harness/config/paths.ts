import path from 'node:path';
import { DEMO_CONFIG } from './files.ts';
import type { ResolvedConfig } from './schema.ts';

/**
 * results.dir and results.baseline, relative to the config file's folder (as every path
 * of a config is), so a run finds the same folder from any working directory. The demo
 * config (`--demo`) keeps its results in the working directory: its own folder is
 * dbproof's, possibly inside node_modules.
 */
function base(configDir: string): string {
  return path.resolve(configDir) === path.dirname(DEMO_CONFIG) ? process.cwd() : configDir;
}

export function resultsDirOf(config: ResolvedConfig, configDir: string): string {
  return path.resolve(base(configDir), config.results.dir);
}

export function baselineFileOf(config: ResolvedConfig, configDir: string): string {
  return config.results.baseline
    ? path.resolve(base(configDir), config.results.baseline)
    : path.join(resultsDirOf(config, configDir), 'baseline.json');
}
