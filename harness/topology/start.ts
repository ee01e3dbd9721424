import { attachExternalTopology } from '../providers/external/provider.ts';
import { startNativeTopology } from '../providers/native/provider.ts';
import { resolveTopologySpec } from './spec.ts';
import type { Topology, TopologySpec } from './types.ts';

/**
 * Starts (or, for `external`, attaches to) a topology: a Postgres primary, streaming
 * read replicas and Redis. Always `stop()` it; if this process dies first, the
 * watchdog stops it within seconds.
 *
 * @example
 * const topology = await startTopology({ replicas: 2 });
 * try { await topology.replicas[0].kill(); } finally { await topology.stop(); }
 */
export async function startTopology(spec: TopologySpec = {}): Promise<Topology> {
  const resolved = resolveTopologySpec(spec);
  switch (resolved.provider) {
    case 'native':
      return startNativeTopology(resolved);
    case 'containers': {
      // Loaded only when asked for: testcontainers is not needed by anyone on the native provider.
      const { startContainersTopology } = await import('../providers/containers/provider.ts');
      return startContainersTopology(resolved);
    }
    case 'compose': {
      const { attachComposeTopology } = await import('../providers/compose/provider.ts');
      return attachComposeTopology(resolved);
    }
    case 'external':
      return attachExternalTopology(resolved);
  }
}
