// Run by test/noise/monitor.test.ts as its own process (`node --import tsx`), so that the
// process that started a noise monitor can be SIGKILLed: it prints the probe's pid, then waits.
import { startNoiseMonitor } from '../../harness/noise/index.ts';

const monitor = await startNoiseMonitor();
process.stdout.write(`${monitor.probePid}\n`);
// The monitor keeps nothing alive on its own purpose; this process waits to be killed.
setInterval(() => {}, 60_000);
