import { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';
import type { TopologySpec } from './types.ts';

export const MAX_REPLICAS = 8;

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

const topologySpecSchema = z
  .object({
    provider: z.enum(['native', 'containers', 'compose', 'external']).default('native'),
    replicas: z.number().int().min(0).max(MAX_REPLICAS).default(2),
    redis: z.boolean().default(true),
    synchronous: z.boolean().default(false),
    postgres: z
      .object({
        settings: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/i, 'a setting name'), settingValue).optional(),
        binDir: z.string().min(1).optional(),
        seedCacheKey: z.string().regex(/^[a-z0-9_.-]+$/i, 'letters, digits, dot, dash or underscore').optional(),
      })
      .strict()
      .default({}),
    redisServer: z.string().min(1).optional(),
    compose: z.object({ file: z.string().min(1).optional() }).strict().optional(),
    images: z.object({ postgres: z.string().min(1).optional(), redis: z.string().min(1).optional() }).strict().optional(),
    external: z
      .object({
        primary: z.string().url(),
        replicas: z.array(z.string().url()).default([]),
        redis: z.string().url().optional(),
        admin: z.string().url().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.provider === 'external' && !spec.external) {
      ctx.addIssue({ code: 'custom', path: ['external'], message: "provider 'external' needs external.primary (a postgres:// URL)" });
    }
    if (spec.synchronous && spec.replicas === 0) {
      ctx.addIssue({ code: 'custom', path: ['synchronous'], message: 'synchronous replication needs at least one replica' });
    }
  });

export type ResolvedTopologySpec = z.output<typeof topologySpecSchema>;

/** Validates a spec once, at the edge; the message names the field and what it should be. */
export function resolveTopologySpec(spec: TopologySpec = {}): ResolvedTopologySpec {
  const parsed = topologySpecSchema.safeParse(spec);
  if (parsed.success) return parsed.data;
  throw new UsageError(`invalid topology option ${zodIssue(parsed.error, 'topology')}`);
}
