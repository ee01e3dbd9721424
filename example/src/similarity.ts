import type { Db } from './db.ts';
import { brokenPlans } from './plans.ts';

/**
 * Similarity search: the `k` nearest embeddings of a point, by a KNN index. Made at start-up
 * when EXAMPLE_EMBEDDINGS names a row count: a table `embeddings` with that many random points
 * (seeded), and its index. With the `cube` extension (contrib, exact k-nearest-neighbour by
 * GiST): 3 dimensions, or 64 in the broken variant (EXAMPLE_PLANS=broken), where a GiST index
 * no longer beats reading every row. EXAMPLE_EMBEDDINGS_EXTENSION=vector makes the same table
 * with pgvector (an HNSW index: approximate), where it is installed.
 */
export interface EmbeddingsSetting {
  rows: number;
  dimensions: number;
  extension: 'cube' | 'vector';
}

export function embeddingsFromEnv(env: NodeJS.ProcessEnv = process.env): EmbeddingsSetting | undefined {
  const rows = Number(env.EXAMPLE_EMBEDDINGS ?? 0);
  if (!Number.isInteger(rows) || rows <= 0) return undefined;
  const extension = env.EXAMPLE_EMBEDDINGS_EXTENSION === 'vector' ? 'vector' : 'cube';
  return { rows, dimensions: brokenPlans(env) ? 64 : 3, extension };
}

/** The table, its points (setseed: the same on every start) and its index, when missing. */
export async function ensureEmbeddings(db: Db, setting: EmbeddingsSetting): Promise<void> {
  const { rows, dimensions, extension } = setting;
  const point = `array(SELECT random() FROM generate_series(1, ${dimensions}) WHERE g > 0)`;
  const [type, value, index] =
    extension === 'vector'
      ? [`vector(${dimensions})`, `${point}::vector`, 'USING hnsw (embedding vector_l2_ops)']
      : ['cube', `cube(${point})`, 'USING gist (embedding)'];
  await db.write(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(727017);
    CREATE EXTENSION IF NOT EXISTS ${extension};
    IF to_regclass('embeddings') IS NULL THEN
      CREATE TABLE embeddings (id bigint PRIMARY KEY, embedding ${type} NOT NULL);
      PERFORM setseed(0.16);
      INSERT INTO embeddings SELECT g, ${value} FROM generate_series(1, ${rows}) g;
      CREATE INDEX embeddings_embedding_idx ON embeddings ${index};
      ANALYZE embeddings;
    END IF;
  END $$`);
}

export interface Neighbour {
  id: number;
  distance: number;
}

/** The `k` embeddings nearest to embedding `id` (itself first, at distance 0): `ORDER BY embedding <-> $1 LIMIT k`. */
export async function similar(db: Db, id: number, k: number, setting: EmbeddingsSetting): Promise<Neighbour[]> {
  const [found] = await db.read<{ embedding: string }>(
    'SELECT embedding::text AS embedding FROM embeddings WHERE id = $1',
    [id],
  );
  if (!found) return [];
  // cube prints `(0.1, 0.2)`, pgvector `[0.1,0.2]`: the numbers are bound as a float8[] either way.
  const near = found.embedding
    .replace(/[()[\]\s]/g, '')
    .split(',')
    .map(Number);
  const target = setting.extension === 'vector' ? '$1::float8[]::vector' : 'cube($1::float8[])';
  const rows = await db.read<Neighbour>(
    `SELECT id, embedding <-> ${target} AS distance FROM embeddings ORDER BY embedding <-> ${target} LIMIT $2`,
    [near, k],
  );
  return rows.map((r) => ({ id: Number(r.id), distance: Number(r.distance) }));
}
