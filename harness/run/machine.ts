import { judgeMachine, type NoiseRecord, SATURATION, startNoiseMonitor } from '../noise/index.ts';
import type { AttemptNoise } from '../results/run-result.ts';
import type { Environment } from './environment.ts';
import type { RunPlan } from './plan.ts';

/** The machine watched while one attempt runs; `stop` gives its record and whether it was saturated. */
export interface MachineWatch {
  /**
   * Stops watching. `engineBuckets` are the attempt's load buckets: an engine that sent its
   * requests late saw the machine saturated too, whatever the probe saw.
   */
  stop(engineBuckets?: readonly { sendLateMs?: number }[]): Promise<{ record: NoiseRecord; noise: AttemptNoise }>;
}

/**
 * Starts watching the machine for one attempt (issue 13): the probe's wake-up lateness,
 * CPU pressure and steal, and the CPU used by dbproof, by the app and by the topology's
 * processes, so a reader can tell a slow app from a busy machine.
 */
export async function watchMachine(plan: RunPlan, environment: Environment): Promise<MachineWatch> {
  const thresholds = { ...SATURATION, ...plan.config.noise.saturation };
  const monitor = await startNoiseMonitor({
    thresholds,
    pids: () => ({
      dbproof: [process.pid],
      app: environment.app.pid ? [environment.app.pid] : [],
      postgres: environment.topology.pids(),
      postgresNames: environment.topology.workedOnBy ?? [],
    }),
  });
  return {
    async stop(engineBuckets = []) {
      const record = await monitor.stop();
      return { record, noise: judgeMachine(record.summary, engineBuckets, thresholds) };
    },
  };
}
