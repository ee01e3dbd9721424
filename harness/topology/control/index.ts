export { serveTopology, healTopology, type TopologyControlServer } from './server.ts';
export { connectTopology, type RemoteTopology } from './client.ts';
export type { TopologyHandle } from './protocol.ts';
