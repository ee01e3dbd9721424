import { z } from 'zod';
import { requestString } from '../../harness/http/request.ts';

/** Option pieces every suite's schema shares, so that the same field means the same everywhere. */
export const ms = (fallback: number) => z.number().int().min(0).max(600_000).default(fallback);
export const count = (fallback: number) => z.number().min(0).default(fallback);
export const ratio = (fallback: number) => z.number().min(0).max(1).default(fallback);
export const request = (fallback: string) => requestString().default(fallback);
export const rate = (fallback: number) => z.number().positive().max(5000).default(fallback);
/** A 1-based replica number, as people count them (replica1, replica2). */
export const replicaNumber = z.number().int().min(1).max(8).default(1);
/** A list of ids to put in `{id}`, or a range `{ from, to }` drawn from with a Zipf skew. */
export const ids = z
  .object({
    from: z.number().int().min(1).default(1),
    to: z.number().int().min(1).default(20),
    skew: z.number().min(0).max(5).default(1.1),
  })
  .strict()
  .prefault({});
