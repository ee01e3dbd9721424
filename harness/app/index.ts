export { startApp, type StartedApp, type AppUrls } from './start.ts';
export { checkInstances, instancesCapacity } from './capacity.ts';
