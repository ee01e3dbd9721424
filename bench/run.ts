/** `npm run bench [-- name…]`: runs the named benchmarks (all but `stability` by default). */
import { benchCapture } from './capture.ts';
import { benchDrill } from './drill.ts';
import { benchFaults } from './faults.ts';
import { benchFixtures } from './fixtures.ts';
import { benchGate, benchLoad } from './load.ts';
import { benchOpenModel } from './open-model.ts';
import { benchPlanCapture } from './plan-capture.ts';
import { benchProxy } from './proxy.ts';
import { benchRehearsal } from './rehearsal.ts';
import { benchStability } from './stability.ts';
import { benchStartup } from './startup.ts';
import { benchTopology } from './topology.ts';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  topology: benchTopology,
  fixtures: benchFixtures,
  capture: benchCapture,
  faults: benchFaults,
  proxy: benchProxy,
  load: async () => {
    await benchLoad();
    await benchGate();
  },
  gate: benchGate,
  'open-model': benchOpenModel,
  startup: benchStartup,
  stability: benchStability,
  drill: benchDrill,
  rehearsal: benchRehearsal,
  'plan-capture': benchPlanCapture,
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(
    `dbproof bench: unknown benchmark ${unknown.join(', ')}; the benchmarks are ${Object.keys(BENCHMARKS).join(', ')}`,
  );
  process.exit(2);
}
// The stability bench runs the whole gate a dozen times (half an hour), the drill restores a
// scale-1 data set four times: only when named.
const DEFAULT = Object.keys(BENCHMARKS).filter((name) => name !== 'stability' && name !== 'drill');
for (const name of names.length > 0 ? names : DEFAULT) await BENCHMARKS[name]!();
process.exit(0);
