export { defineConfig, readConfig, resolveConfig, DEMO_CONFIG, type ConfigFile } from './read.ts';
export {
  configSchema,
  type DbproofConfig,
  type TeamSuiteEntry,
  type ResolvedConfig,
  type AppConfig,
} from './schema.ts';
