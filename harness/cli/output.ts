import { redact } from '../redact.ts';
import type { TopologyDescription } from '../topology/types.ts';

/** Human output goes to stderr when stdout is reserved for --json, so the two never mix. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The connection URLs for a person, passwords hidden. */
export function describeForHumans(topology: TopologyDescription): string {
  const lines = [
    `primary   ${redact(topology.primary)}`,
    ...topology.replicas.map((url, i) => `replica${i + 1}  ${redact(url)}`),
    ...(topology.redis ? [`redis     ${redact(topology.redis)}`] : []),
    `admin     ${redact(topology.admin)}`,
  ];
  return lines.join('\n');
}
