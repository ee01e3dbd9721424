// dbproof's noise monitor (issue 13): measures the measuring machine all the time, so a
// slow app can be told from a busy machine. `startNoiseMonitor` (engines: it starts the
// probe process); the record, its schema and its judgement are pure, in ./record.ts, which
// the model layer (the results schema) may import directly.
export {
  type NoiseMonitor,
  type NoiseMonitorOptions,
  noiseMonitorOptionsSchema,
  startNoiseMonitor,
} from './monitor.ts';
export type { Party, PartyPids } from './parties.ts';
export {
  type Cores,
  engineLateness,
  isSaturatedBucket,
  judgeMachine,
  type NoiseBucket,
  type NoiseRecord,
  type NoiseSummary,
  noiseBetween,
  noiseBucketSchema,
  noiseRecordSchema,
  noiseSummarySchema,
  othersCores,
  SATURATION,
  type SaturationThresholds,
  summariseNoise,
} from './record.ts';
