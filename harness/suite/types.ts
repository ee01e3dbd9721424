import type { z } from 'zod';
import type { Verdict } from '../budgets/index.ts';
import type { Spread } from '../http/spread.ts';
import type { TopologyLinks } from '../faults/links.ts';
import type { FaultEvent } from '../faults/schedule.ts';
import type { Scenario } from '../../load/scenario.ts';
import type { FindingRecord, PlanEvidenceRecord, TimelineRecord } from '../results/schema.ts';
import type { ProviderName, Topology } from '../topology/types.ts';

/** What a suite is given: it never starts a topology or an app of its own. */
export interface SuiteContext {
  topology: Topology;
  /** The network the app was given (its URLs go through these proxies). */
  links: TopologyLinks;
  /**
   * The system under test, already started and answering: `url` is one instance (the
   * first); `urls` every instance (`app.instances`), when there is more than one to spread over,
   * and `spread` how a balancer would spread clients over them (`app.spread`; default round-robin).
   */
  app: {
    url: string;
    urls?: string[];
    spread?: Spread;
    /**
     * The URLs the same app had earlier in this run, on topologies since stopped (a
     * destructive suite's): for a suite that reads every answer the run saw (`runsLast`).
     */
    earlierUrls?: string[];
  };
  /** The app's database name (the same on every node). */
  database: string;
  /** A line of progress for a person (stderr on the CLI); optional. */
  progress?: (line: string) => void;
  /** The config file's folder: a suite's options name files relative to it (the working directory when there is no config). */
  configDir?: string;
  /** The config's load scenarios: the app's traffic as the team describes it, for a suite that drives it (migration-rehearsal). */
  scenarios?: Readonly<Record<string, Scenario>>;
  /**
   * A database of the suite's own on the primary, seeded with the run's data set at `scale`
   * (its seed unchanged), dropped by `drop`: for a claim judged at several sizes (query-plans'
   * `scaling`). Absent where the run has no data set or did not start the cluster.
   */
  seedAt?: (scale: number) => Promise<{ name: string; drop(): Promise<void> }>;
}

/** What a suite hands back; the runner adds the name, target and times. */
export interface SuiteOutcome {
  verdicts: Verdict[];
  measurements: Record<string, number | null>;
  events: FaultEvent[];
  timelines: TimelineRecord[];
  notes: string[];
  /** N+1 findings, for the report (the n-plus-one suite). */
  findings?: FindingRecord[];
  /** The plans that broke a claim, for the report (the query-plans suite). */
  plans?: PlanEvidenceRecord[];
}

export interface SuiteRequirements {
  /** Replicas the suite needs at least. */
  replicas?: number;
  redis?: boolean;
  /** Promotes a replica: the topology is not the same afterwards; the runner gives it one of its own. */
  destructive?: boolean;
  /**
   * Reads what the rest of the run saw (its answers, harness/http/seen.ts): the runner runs it
   * after the other suites and the scenarios of its topology, that topology after the
   * destructive suites' own, and tells it the app's earlier URLs (`app.earlierUrls`).
   */
  runsLast?: boolean;
}

/**
 * A suite: a named claim family with typed options (endpoints, timings, budgets, all with
 * defaults for the reference app) and a run that measures and judges.
 */
export interface SuiteDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string;
  /** One line: what the suite proves. */
  description: string;
  options: Schema;
  requires: SuiteRequirements;
  run(context: SuiteContext, options: z.output<Schema>): Promise<SuiteOutcome>;
  /** Refuses (with a UsageError) options the planned topology cannot honour, before anything starts. */
  preflight?(
    options: z.output<Schema>,
    topology: {
      provider: ProviderName;
      replicas: number;
      redis: boolean;
      /** The config's extra Postgres settings (`topology.postgres.settings`), where the plan has them. */
      postgres?: { settings?: Readonly<Record<string, unknown>> };
    },
    /**
     * Where the plan was made: the config file's folder, which a suite's file options are
     * relative to; the config's load scenarios by name, and whether it has a data set to seed.
     */
    where?: { configDir: string; scenarios?: readonly string[]; dataset?: boolean },
  ): void | Promise<void>;
}

export const defineSuite = <Schema extends z.ZodType>(suite: SuiteDefinition<Schema>): SuiteDefinition<Schema> => suite;
