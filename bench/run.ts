/** `npm run bench [-- name…]`: runs the named benchmarks (all by default). */
import { benchCapture } from './capture.ts';
import { benchFaults } from './faults.ts';
import { benchFixtures } from './fixtures.ts';
import { benchGate, benchLoad } from './load.ts';
import { benchTopology } from './topology.ts';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  topology: benchTopology,
  fixtures: benchFixtures,
  capture: benchCapture,
  faults: benchFaults,
  load: async () => {
    await benchLoad();
    await benchGate();
  },
  gate: benchGate,
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(
    `dbproof bench: unknown benchmark ${unknown.join(', ')}; the benchmarks are ${Object.keys(BENCHMARKS).join(', ')}`,
  );
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) await BENCHMARKS[name]!();
process.exit(0);
