export { startApp, type StartedApp, type AppUrls } from './start.ts';
