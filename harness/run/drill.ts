import { checkCapacity } from '../../fixtures/dataset/capacity.ts';
import { UsageError } from '../errors.ts';
import type { ProviderName } from '../topology/types.ts';
import { planRun, type RunPlan } from './plan.ts';

const DRILL = 'backup-restore';

/** What `dbproof drill` may change on top of the config's `suites['backup-restore']`. */
export interface DrillOptions {
  /** The config file (default ./dbproof.config.ts); `DEMO_CONFIG` for the reference app. */
  config?: string;
  provider?: ProviderName;
  /** `pg_basebackup` or `pgbackrest`. */
  tool?: string;
  /** How long the writers run before the disaster. */
  durationMs?: number;
  /** The point-in-time target, this long after the writers started. */
  pitrAtMs?: number;
  archiveTimeoutS?: number;
  /** The data set's scale, instead of the config's. */
  scale?: number;
}

/**
 * A run of the backup-restore suite alone (a disaster drill), with the config's options for it
 * and the command line's on top; validated like any plan before anything starts: an unknown
 * tool, pgBackRest missing, a point-in-time target outside the writes, a topology dbproof
 * does not start. Run it with `runPlan`.
 */
export async function planDrill(options: DrillOptions = {}): Promise<RunPlan> {
  const overrides = Object.fromEntries(
    Object.entries({
      tool: options.tool,
      durationMs: options.durationMs,
      pitrAtMs: options.pitrAtMs,
      archiveTimeoutS: options.archiveTimeoutS,
    }).filter(([, value]) => value !== undefined),
  );
  // The flags over the config's options, validated (and the suite's preflight run) as the config's are.
  const plan = await planRun({
    config: options.config,
    provider: options.provider,
    suites: [DRILL],
    scenarios: false,
    suiteOptions: { [DRILL]: overrides },
  });
  if (options.scale === undefined) return plan;
  if (!plan.config.dataset || !plan.dataset)
    throw new UsageError('--scale needs a data set in the config (dataset: { profile, scale })');
  checkCapacity(plan.dataset, options.scale);
  return { ...plan, config: { ...plan.config, dataset: { ...plan.config.dataset, scale: options.scale } } };
}
