export { startFaultProxy, type FaultProxy, type Toxic, type Direction, type NamedToxic } from './proxy.ts';
export { startLinkHost, settleLinkHosts, type LinkHost } from './link-host.ts';
export { runSchedule, type ScheduledFault, type FaultEvent, type RunningSchedule } from './schedule.ts';
export { startLinks, type Link, type TopologyLinks } from './links.ts';
