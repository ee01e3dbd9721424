import { z } from 'zod';
// Types only: the suites' option types for DbproofConfig. The names are checked where a run is planned (harness/run).
import type { SUITES, SuiteName } from '../../suites/index.ts';
import type { SuiteDefinition } from '../suite/types.ts';
import type { TopologySpec } from '../topology/types.ts';
import { scenarioSchema } from '../../load/scenario.ts';
import { checkCapacity } from '../../fixtures/dataset/capacity.ts';
import { DATASET_DEFAULTS } from '../../fixtures/defaults.ts';
import { profile, profiles } from '../../fixtures/profiles/index.ts';

/**
 * `dbproof.config.ts`: what to start, what data to load, which app to test and how to
 * hand it the topology, which suites to run with which budgets. Validated once, here;
 * every message names the field.
 */
const appSchema = z
  .object({
    /** How results name the app. */
    name: z.string().min(1).default('app'),
    /** Starts the app (through `sh -c`), with the topology's URLs in its environment; stopped after the run. */
    command: z.string().min(1).optional(),
    /** The command's working directory (default: the config file's folder). */
    cwd: z.string().min(1).optional(),
    /** The app's base URL (http or https). Default `http://127.0.0.1:<port>` with the port dbproof gives it in `envNames.port`. */
    url: z
      .string()
      .refine(
        (url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol),
        'an http:// or https:// URL, e.g. http://127.0.0.1:3000',
      )
      .optional(),
    /**
     * How many copies of the app dbproof starts (`command` only): each with a port of its own
     * and the same topology URLs, as behind a load balancer. `rate-limit` spreads its clients
     * over them as `spread` says, `health` probes each and loads them in turn, scenarios spread
     * connection by connection (each connection one client), other suites send to the first.
     * 1: the app as one process.
     */
    instances: z.number().int().min(1).max(16).default(1),
    /**
     * How a balancer spreads a suite's clients over the instances: `round-robin` (each request
     * to the next), `client-address` (sticky on the source address) or `{ byHeader: 'x-api-key' }`
     * (sticky on a header's value). A count kept in each instance's memory holds with sticky
     * spreading and not with round-robin: say which one production has.
     */
    spread: z
      .union([
        z.literal('round-robin'),
        z.literal('client-address'),
        z.object({ byHeader: z.string().min(1) }).strict(),
      ])
      .default('round-robin'),
    /** Polled until it answers 2xx: the app is ready. */
    ready: z.string().startsWith('/', 'a path starting with /').default('/health'),
    readyTimeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /** Extra environment for the command. */
    env: z.record(z.string(), z.string()).default({}),
    /** The variable names the topology's URLs go in. Replica URLs are comma-separated. */
    envNames: z
      .object({
        primary: z.string().min(1).default('DATABASE_URL'),
        replicas: z.string().min(1).default('DATABASE_REPLICA_URLS'),
        redis: z.string().min(1).default('REDIS_URL'),
        port: z.string().min(1).default('PORT'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((app) => app.command || app.url, {
    message: 'give app.command (dbproof starts the app) or app.url (an app that is already running)',
  })
  .refine((app) => app.instances === 1 || (app.command && !app.url), {
    message:
      'app.instances above 1 needs app.command and no app.url: dbproof starts each copy on a port of its own (an app already running is one instance)',
    path: ['instances'],
  });

const datasetSchema = z.union([
  z.literal(false),
  z
    .object({
      /** A built-in profile: inspections, bags, saas. */
      profile: z.string().min(1).optional(),
      /** A module whose default export is defineDataset({...}), relative to the config file. */
      file: z.string().min(1).optional(),
      scale: z.number().positive().default(DATASET_DEFAULTS.scale),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .default(DATASET_DEFAULTS.seed),
    })
    .strict()
    .refine((d) => !(d.profile && d.file), { message: 'give dataset.profile or dataset.file, not both' })
    .superRefine((d, ctx) => {
      // A built-in profile is known now: an unknown one, or a scale that cannot fit, costs no topology.
      // (A dataset.file's scale is checked when it is planned.)
      if (d.file) return;
      try {
        checkCapacity(profile(d.profile ?? DATASET_DEFAULTS.profile), d.scale);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: [d.profile && !(d.profile in profiles) ? 'profile' : 'scale'],
          message: (error as Error).message,
        });
      }
    }),
]);

export const configSchema = z
  .object({
    /** Passed to startTopology (validated there): provider, replicas, redis, synchronous, postgres settings… */
    topology: z.record(z.string(), z.unknown()).default({}),
    /** Loaded into the app's database before the app starts; false for none. */
    dataset: datasetSchema.default(false),
    app: appSchema,
    /**
     * The suites `dbproof test` runs when no name is given, each with its options (budgets, endpoints, timings).
     * The names are checked against the suites dbproof ships where a run is planned (harness/run/suites.ts).
     */
    suites: z.record(z.string(), z.unknown()).default({}),
    /** Load scenarios `dbproof gate` runs after the suites, by name. */
    scenarios: z
      .record(z.string(), scenarioSchema)
      // Checked here rather than by the record's key schema, whose message zod reduces to "Invalid key in record".
      .superRefine((scenarios, ctx) => {
        for (const name of Object.keys(scenarios)) {
          if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name))
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `'${name}' is not a scenario name: use letters, digits, - and _`,
            });
        }
      })
      .default({}),
    results: z
      .object({
        dir: z.string().min(1).default('results'),
        /** The baseline the gate compares load scenarios with (default <dir>/baseline.json, written by `dbproof baseline`). */
        baseline: z.string().min(1).optional(),
        /** A slow-down below this share is never a regression. */
        regressionTolerance: z.number().min(0).max(10).default(0.1),
        /** Nor one below this many ms (sub-millisecond services move by ms with a shared machine's load). */
        regressionMinMs: z.number().min(0).max(60_000).default(5),
        /**
         * The statements that cost each load scenario the most (pg_stat_statements, by total
         * time), kept in its result and compared with the baseline's: a statement new in the top
         * `count` (one PREPARE takes, and of at least `newMinShare` of the load's statement time), buffers per call grown beyond `buffersTolerance` (and by `buffersMin` or more),
         * a generic plan of another shape. Reported; a verdict that gates with `gate: true`.
         * `count: 0` turns it off.
         */
        topStatements: z
          .object({
            count: z.number().int().min(0).max(50).default(10),
            gate: z.boolean().default(false),
            buffersTolerance: z.number().min(0).max(100).default(0.5),
            buffersMin: z.number().min(0).default(8),
            newMinShare: z.number().min(0).max(1).default(0.05),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * How the machine's own noise is watched and judged (issue 13). While every suite and
     * scenario runs, a probe process measures how late the machine wakes it up, with CPU
     * pressure and steal; a time-dependent budget that breaks while the machine was
     * saturated is run again, and is INCONCLUSIVE (exit 2) when no attempt was quiet.
     */
    noise: z
      .object({
        /** Watch the machine (default true). false: nothing is excused, every broken budget is a FAIL. */
        monitor: z.boolean().default(true),
        /** Attempts after the first, when a time-dependent budget broke on a saturated machine (0–5). */
        retries: z.number().int().min(0).max(5).default(2),
        /**
         * What counts as saturated, where a runner differs from the machines the defaults were
         * measured on (harness/noise/record.ts, SATURATION; the README has the figures).
         */
        saturation: z
          .object({
            /** A 100 ms bucket is saturated when the probe's p99 wake-up lateness is above this (ms) … */
            probeP99Ms: z.number().min(0).max(10_000).optional(),
            /** … or when CPU pressure (share of the bucket some task waited for a CPU) is above this (0–1). */
            cpuPressure: z.number().min(0).max(1).optional(),
            /** … while processes other than dbproof, the app and Postgres use at least this many cores … */
            othersCores: z.number().min(0).max(1024).optional(),
            /** … or steal (share of CPU time the hypervisor gave away) is at least this (0–1); */
            steal: z.number().min(0).max(1).optional(),
            /** or when those other processes hold more than this share of the machine's CPU (0–1). */
            othersShare: z.number().min(0).max(1).optional(),
            /** An attempt is saturated when more than this share of its buckets are (0–1) … */
            windowShare: z.number().min(0).max(1).optional(),
            /** … and at least this many of them. */
            windowBuckets: z.number().int().min(1).max(100_000).optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ResolvedConfig = z.output<typeof configSchema>;
export type AppConfig = z.output<typeof appSchema>;

/** The typed shape a team writes: each suite's options as its schema takes them. */
export type DbproofConfig = Omit<z.input<typeof configSchema>, 'topology' | 'suites'> & {
  topology?: TopologySpec;
  /**
   * dbproof's suites by name with their options, and the team's own: `'orders-consistency':
   * { use: ordersConsistency, …its options }` (`use` the value `defineSuite` returns, or its
   * module's path relative to this file; see TeamSuiteEntry).
   */
  suites?: { [Name in SuiteName]?: z.input<(typeof SUITES)[Name]['options']> } & {
    [name: string]: TeamSuiteEntry | object | undefined;
  };
};

/** A team's suite in the config: the suite (or its module's path) and its options, checked by its own schema. */
export type TeamSuiteEntry = {
  // biome-ignore lint/suspicious/noExplicitAny: a suite of any options schema
  use: SuiteDefinition<any> | string;
  [option: string]: unknown;
};
