export { defineConfig, readConfig, resolveConfig, type ConfigFile } from './read.ts';
export { CONFIG_FILES, DEMO_CONFIG } from './files.ts';
export {
  configSchema,
  type DbproofConfig,
  type TeamSuiteEntry,
  type ResolvedConfig,
  type AppConfig,
} from './schema.ts';
