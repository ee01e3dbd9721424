import { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';

export const MAX_REPLICAS = 8;

/** Who starts a topology: dbproof's own processes, containers, a compose stack, or nobody (a cluster dbproof does not manage). */
export const providerNameSchema = z.enum(['native', 'containers', 'compose', 'external']);

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

/** For `provider: 'external'`: URLs of a cluster dbproof does not manage. */
const externalUrlsSchema = z
  .object({
    primary: z.string().url(),
    replicas: z.array(z.string().url()).default([]),
    redis: z.string().url().optional(),
    /** A superuser (or pg_monitor) URL for lag and promotion; defaults to `primary`. */
    admin: z.string().url().optional(),
  })
  .strict();

/**
 * What to start, validated once at the edge. The one definition of a topology spec:
 * `TopologySpec` (what a caller writes) and `ResolvedTopologySpec` (with the defaults)
 * are derived from it.
 */
const topologySpecSchema = z
  .object({
    provider: providerNameSchema.default('native'),
    /** Number of streaming read replicas (0 to 8). Default 2. */
    replicas: z.number().int().min(0).max(MAX_REPLICAS).default(2),
    /** Start a Redis beside Postgres. Default true. */
    redis: z.boolean().default(true),
    /**
     * Synchronous replication to every replica (`synchronous_standby_names = 'ANY n (…)'`
     * with `synchronous_commit = on`): a commit returns only once each replica has it.
     * For no-loss failover tests. Default false (asynchronous).
     */
    synchronous: z.boolean().default(false),
    postgres: z
      .object({
        /** Extra `postgresql.conf` settings, applied to every node (`-c name=value`). */
        settings: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/i, 'a setting name'), settingValue).optional(),
        /** Directory with the Postgres server binaries; overrides `DBPROOF_PG_BIN`. */
        binDir: z.string().min(1).optional(),
        /**
         * Start every node from the seed cache entry with this key when there is one
         * (native provider): a topology that already holds a seeded data set. See
         * `Topology.seedCache` and fixtures' `startSeededTopology`.
         */
        seedCacheKey: z
          .string()
          .regex(/^[a-z0-9_.-]+$/i, 'letters, digits, dot, dash or underscore')
          .optional(),
      })
      .strict()
      .default({}),
    /** Path of `redis-server`; overrides `DBPROOF_REDIS_SERVER`. */
    redisServer: z.string().min(1).optional(),
    /** For `provider: 'compose'`: the compose file (default DBPROOF_COMPOSE_FILE, then ./docker-compose.yml). */
    compose: z
      .object({ file: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** For `provider: 'containers'`: images (default DBPROOF_PG_IMAGE / DBPROOF_REDIS_IMAGE, then postgres:15 / redis:7). */
    images: z
      .object({ postgres: z.string().min(1).optional(), redis: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** For `provider: 'external'`: URLs of a cluster dbproof does not manage. */
    external: externalUrlsSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.provider === 'external' && !spec.external) {
      ctx.addIssue({
        code: 'custom',
        path: ['external'],
        message: "provider 'external' needs external.primary (a postgres:// URL)",
      });
    }
    if (spec.synchronous && spec.replicas === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['synchronous'],
        message: 'synchronous replication needs at least one replica',
      });
    }
  });

export type ProviderName = z.output<typeof providerNameSchema>;
/** What to start, as a caller writes it (every field optional). */
export type TopologySpec = z.input<typeof topologySpecSchema>;
/** A spec with its defaults filled in. */
export type ResolvedTopologySpec = z.output<typeof topologySpecSchema>;
export type ExternalUrls = z.input<typeof externalUrlsSchema>;

/** Validates a spec once, at the edge; the message names the field and what it should be. */
export function resolveTopologySpec(spec: TopologySpec = {}): ResolvedTopologySpec {
  const parsed = topologySpecSchema.safeParse(spec);
  if (parsed.success) return parsed.data;
  throw new UsageError(`invalid topology option ${zodIssue(parsed.error, 'topology')}`);
}
