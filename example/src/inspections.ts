import type { Cache } from './cache.ts';
import type { Db } from './db.ts';

/**
 * The inspections domain, with each classic N+1 next to its fix. The N+1 versions are
 * deliberate: dbproof's suites must flag them (the negative control), and pass the fixes.
 */

export interface MediaByItem {
  itemId: number;
  label: string;
  media: { id: number; url: string }[];
}

/** N+1: one query for the items, then one more per item for its media. */
export async function mediaPerItem(db: Db, inspectionId: number, items: number): Promise<MediaByItem[]> {
  const rows = await db.read<{ id: number; label: string }>(
    'SELECT id, label FROM checklist_items WHERE inspection_id = $1 ORDER BY position LIMIT $2',
    [inspectionId, items],
  );
  const result: MediaByItem[] = [];
  for (const item of rows) {
    const media = await db.read<{ id: number; url: string }>(MEDIA_OF_ITEM, [item.id]);
    result.push({ itemId: Number(item.id), label: item.label, media });
  }
  return result;
}

const MEDIA_OF_ITEM = 'SELECT id, url FROM media WHERE checklist_item_id = $1 ORDER BY id';

/**
 * The fix: the items, then every item's media in one batched query (`= ANY($1)`). When that
 * query is cancelled (a statement timeout, SQLSTATE 57014), each item's media is read on its
 * own instead (`fallback`; off with EXAMPLE_BATCH_READ_FALLBACK=off): slower, but an answer.
 */
export async function mediaBatched(
  db: Db,
  inspectionId: number,
  items: number,
  fallback = true,
): Promise<MediaByItem[]> {
  const rows = await db.read<{ id: number; label: string }>(
    'SELECT id, label FROM checklist_items WHERE inspection_id = $1 ORDER BY position LIMIT $2',
    [inspectionId, items],
  );
  let media: { id: number; url: string; checklist_item_id: number }[];
  try {
    media = await db.read(
      'SELECT id, url, checklist_item_id FROM media WHERE checklist_item_id = ANY($1::bigint[]) ORDER BY id',
      [rows.map((r) => r.id)],
    );
  } catch (error) {
    if (!fallback || (error as { code?: string }).code !== '57014') throw error;
    media = [];
    for (const item of rows)
      for (const m of await db.read<{ id: number; url: string }>(MEDIA_OF_ITEM, [item.id]))
        media.push({ ...m, checklist_item_id: item.id });
  }
  return rows.map((item) => ({
    itemId: Number(item.id),
    label: item.label,
    media: media.filter((m) => String(m.checklist_item_id) === String(item.id)).map(({ id, url }) => ({ id, url })),
  }));
}

export interface InspectionRow {
  id: number;
  site: string;
  status: string;
  inspector: string;
}

/** N+1: the list, then the inspector of each row looked up one by one. */
export async function listWithInspectorPerRow(db: Db, limit: number): Promise<InspectionRow[]> {
  const rows = await db.read<{ id: number; site: string; status: string; inspector_id: number }>(
    'SELECT id, site, status, inspector_id FROM inspections ORDER BY id LIMIT $1',
    [limit],
  );
  const result: InspectionRow[] = [];
  for (const row of rows) {
    const [inspector] = await db.read<{ name: string }>('SELECT name FROM inspectors WHERE id = $1', [
      row.inspector_id,
    ]);
    result.push({ id: Number(row.id), site: row.site, status: row.status, inspector: inspector?.name ?? '' });
  }
  return result;
}

/** The fix: one query with a join. */
export async function listJoined(db: Db, limit: number): Promise<InspectionRow[]> {
  const rows = await db.read<{ id: number; site: string; status: string; inspector: string }>(
    'SELECT i.id, i.site, i.status, p.name AS inspector FROM inspections i JOIN inspectors p ON p.id = i.inspector_id ORDER BY i.id LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** A nested N+1 (1 + K + K·M): inspections, then each one's items, then each item's media count. */
export async function checklistOverviewNested(
  db: Db,
  limit: number,
): Promise<{ id: number; items: { id: number; media: number }[] }[]> {
  const list = await db.read<{ id: number }>('SELECT id FROM inspections ORDER BY id LIMIT $1', [limit]);
  const result = [];
  for (const inspection of list) {
    const items = await db.read<{ id: number }>(
      'SELECT id FROM checklist_items WHERE inspection_id = $1 ORDER BY position',
      [inspection.id],
    );
    const withMedia = [];
    for (const item of items) {
      const [count] = await db.read<{ n: string }>('SELECT count(*) AS n FROM media WHERE checklist_item_id = $1', [
        item.id,
      ]);
      withMedia.push({ id: Number(item.id), media: Number(count!.n) });
    }
    result.push({ id: Number(inspection.id), items: withMedia });
  }
  return result;
}

const INSPECTION_SQL =
  'SELECT i.id, i.site, i.status, p.name AS inspector FROM inspections i JOIN inspectors p ON p.id = i.inspector_id WHERE i.id = $1';
const CACHE_TTL_SECONDS = 60;

/** One inspection, read through the cache (60 s). */
export async function inspectionById(db: Db, cache: Cache, id: number): Promise<InspectionRow | null> {
  return cache.getOrLoad(`inspection:${id}`, CACHE_TTL_SECONDS, async () => {
    const [row] = await db.read<InspectionRow>(INSPECTION_SQL, [id]);
    return row ? { ...row, id: Number(row.id) } : null;
  });
}

/** An inspection's status, read from a replica without the cache; `after` is the session's last write position. */
export async function statusById(db: Db, id: number, after?: string): Promise<{ id: number; status: string } | null> {
  const [row] = await db.read<{ id: number; status: string }>(
    'SELECT id, status FROM inspections WHERE id = $1',
    [id],
    after,
  );
  return row ? { id: Number(row.id), status: row.status } : null;
}

/** Changes an inspection's status; the cached inspection is replaced by the committed one. */
export async function updateStatus(
  db: Db,
  cache: Cache,
  id: number,
  status: string,
): Promise<{ row: InspectionRow | null; lsn: string }> {
  const { rows, lsn } = await db.write<InspectionRow>(
    `UPDATE inspections i SET status = $2 FROM inspectors p WHERE i.id = $1 AND p.id = i.inspector_id RETURNING i.id, i.site, i.status, p.name AS inspector`,
    [id, status],
  );
  const row = rows[0] ? { ...rows[0], id: Number(rows[0].id) } : null;
  if (row) await cache.put(`inspection:${id}`, CACHE_TTL_SECONDS, row);
  return { row, lsn };
}

/** The notes table is the app's own (not in the seeded data set): made at start-up when missing. */
export async function ensureNotesTable(db: Db): Promise<void> {
  // Two instances of the app may start on one database at once: the lock serialises their DDL.
  await db.write(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(727001);
    CREATE TABLE IF NOT EXISTS inspection_notes (key text PRIMARY KEY, inspection_id bigint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  END $$`);
}

/** Adds a note under a key the client chose; answered only once committed. */
export async function addNote(
  db: Db,
  key: string,
  inspectionId: number,
  body: string,
): Promise<{ key: string; lsn: string }> {
  const { lsn } = await db.write('INSERT INTO inspection_notes (key, inspection_id, body) VALUES ($1, $2, $3)', [
    key,
    inspectionId,
    body,
  ]);
  return { key, lsn };
}

/** A read that holds its connection for `ms` (pool-exhaustion tests). */
export async function slowRead(db: Db, ms: number): Promise<{ sleptMs: number }> {
  await db.read('SELECT pg_sleep($1::float / 1000)', [ms]);
  return { sleptMs: ms };
}

/** Sites matching a regular expression; a malformed pattern is the database's error (400). */
export async function searchSites(db: Db, pattern: string): Promise<{ id: number; site: string }[]> {
  const rows = await db.read<{ id: number; site: string }>(
    'SELECT id, site FROM inspections WHERE site ~* $1 ORDER BY id LIMIT 20',
    [pattern],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Not an N+1, however many queries: a fixed number per request, whatever the size. */
export async function dashboardSummary(db: Db, limit: number): Promise<Record<string, number>> {
  const [total] = await db.read<{ n: string }>('SELECT count(*) AS n FROM inspections');
  const [done] = await db.read<{ n: string }>("SELECT count(*) AS n FROM inspections WHERE status = 'completed'");
  const [recent] = await db.read<{ n: string }>(
    'SELECT count(*) AS n FROM (SELECT id FROM inspections ORDER BY scheduled_at DESC LIMIT $1) r',
    [limit],
  );
  const [inspectors] = await db.read<{ n: string }>('SELECT count(*) AS n FROM inspectors');
  return {
    total: Number(total!.n),
    completed: Number(done!.n),
    recent: Number(recent!.n),
    inspectors: Number(inspectors!.n),
  };
}
