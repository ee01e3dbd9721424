// Run by test/safety/process-builds.test.ts as its own process (`node --import tsx`), so
// that it can be SIGKILLed mid-way or race the test's own process.
import { rmSync } from 'node:fs';
import { startTopology } from '../../harness/index.ts';
import { createRunDir } from '../../harness/providers/native/run-dir.ts';

const [what, count] = process.argv.slice(2);
if (what === 'create-runs') {
  // Makes and removes run directories as fast as it can, while another process sweeps.
  for (let i = 0; i < Number(count); i++) rmSync(createRunDir([]), { recursive: true, force: true });
} else if (what === 'store-seed-cache') {
  const topology = await startTopology({ replicas: 0, redis: false });
  await topology.seedCache!.store(`killed-${process.pid}`);
  await topology.stop();
}
