import type { Db } from './db.ts';

/**
 * Endpoints whose statements have good plans, each with the way teams break them
 * (`EXAMPLE_PLANS=broken`, or the naive app): dbproof's query-plans suite must pass the
 * first and fail the second, naming the plan node that broke the claim.
 */
export const brokenPlans = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.EXAMPLE_PLANS === 'broken' || env.EXAMPLE_NAIVE === '1';

/**
 * The app's own index (not the data set's): the newest media first reads it backwards. Made
 * at start-up when missing, and only where the data set's media table is (main.ts runs it on
 * a connection without the app's time-outs: at scale 1 it takes longer than a write may).
 */
export async function ensurePlanIndexes(db: Db): Promise<void> {
  await db.write(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(727016);
    IF to_regclass('media') IS NOT NULL THEN
      CREATE INDEX IF NOT EXISTS media_uploaded_at_idx ON media (uploaded_at);
    END IF;
  END $$`);
}

export interface ChecklistRow {
  id: number;
  position: number;
  label: string;
  passed: boolean;
  media: number;
}

/**
 * An inspection's checklist with each item's media count. Broken: the id compared as a
 * numeric (an ORM that binds every number as a decimal): the bigint column is cast to numeric
 * on every row, its index no longer applies, and the table is read in full.
 */
export async function checklist(db: Db, inspectionId: number, broken: boolean): Promise<ChecklistRow[]> {
  const rows = await db.read<ChecklistRow>(
    `SELECT c.id, c.position, c.label, c.passed, count(m.id)::int AS media
       FROM checklist_items c LEFT JOIN media m ON m.checklist_item_id = c.id
      WHERE c.inspection_id = ${broken ? '$1::numeric' : '$1'}
      GROUP BY c.id ORDER BY c.position`,
    [inspectionId],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export interface RecentInspection {
  id: number;
  site: string;
  scheduled_at: string;
  failed_items: number;
}

/**
 * The newest inspections of a status, with their failed items: the newest `limit` first (the
 * data set's (status, scheduled_at) index, read backwards), then their items. Broken: the
 * status compared through lower() (no such expression index), so the index is not used and
 * the planner, which cannot estimate lower(status), expects a handful of rows, joins every
 * inspection of that status to its items in a nested loop, and cuts the page only after.
 */
export async function recentInspections(
  db: Db,
  status: string,
  limit: number,
  broken: boolean,
): Promise<RecentInspection[]> {
  const rows = await db.read<RecentInspection>(
    broken
      ? `SELECT i.id, i.site, i.scheduled_at, (count(c.id) FILTER (WHERE NOT c.passed))::int AS failed_items
           FROM inspections i JOIN checklist_items c ON c.inspection_id = i.id
          WHERE lower(i.status) = lower($1)
          GROUP BY i.id ORDER BY i.scheduled_at DESC LIMIT $2`
      : `SELECT i.id, i.site, i.scheduled_at, (count(c.id) FILTER (WHERE NOT c.passed))::int AS failed_items
           FROM (SELECT id, site, scheduled_at FROM inspections WHERE status = $1 ORDER BY scheduled_at DESC LIMIT $2) i
           JOIN checklist_items c ON c.inspection_id = i.id
          GROUP BY i.id, i.site, i.scheduled_at ORDER BY i.scheduled_at DESC`,
    [status, limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export interface RecentMedia {
  id: number;
  kind: string;
  url: string;
  uploaded_at: string;
}

/**
 * The newest media. Good: ORDER BY … LIMIT on the app's index, read backwards. Broken: the page
 * cut with row_number() over the whole table (as ORMs page where LIMIT was not portable): the
 * window needs every media row sorted before its first row, on disk once the sort outgrows
 * work_mem.
 */
export async function recentMedia(db: Db, limit: number, broken: boolean): Promise<RecentMedia[]> {
  const rows = await db.read<RecentMedia>(
    broken
      ? `SELECT id, kind, url, uploaded_at FROM (
           SELECT id, kind, url, uploaded_at, row_number() OVER (ORDER BY uploaded_at DESC) AS n FROM media
         ) m WHERE n <= $1 ORDER BY n`
      : 'SELECT id, kind, url, uploaded_at FROM media ORDER BY uploaded_at DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
