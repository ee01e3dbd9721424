export { defineConfig, loadConfig, resolveConfig, DEMO_CONFIG, type LoadedConfig } from './load.ts';
export { configSchema, type DbproofConfig, type ResolvedConfig, type AppConfig } from './schema.ts';
