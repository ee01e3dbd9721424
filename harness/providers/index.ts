// The providers, and the one function that picks one: above topology/ (the nouns every
// provider implements), so that topology/ never imports a provider.
import { resolveTopologySpec } from '../topology/spec.ts';
import type { Topology, TopologySpec } from '../topology/types.ts';
import { attachExternalTopology } from './external/provider.ts';
import { startNativeTopology } from './native/provider.ts';

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
      const { startContainersTopology } = await import('./containers/provider.ts');
      return startContainersTopology(resolved);
    }
    case 'compose': {
      const { attachComposeTopology } = await import('./compose/provider.ts');
      return attachComposeTopology(resolved);
    }
    case 'external':
      return attachExternalTopology(resolved);
  }
}
