export { startFaultProxy, type FaultProxy, type Toxic, type Direction } from './proxy.ts';
export { runSchedule, type ScheduledFault, type FaultEvent, type RunningSchedule } from './schedule.ts';
export { startLinks, type Link, type TopologyLinks } from './links.ts';
