/**
 * The plans auto_explain writes into a node's server log, read back from the text.
 *
 * Why the stderr log with a prefix, not the `jsonlog` destination: jsonlog needs the logging
 * collector (`logging_collector = on`, files under the data directory, rotated by the server),
 * which the containers provider cannot read with `docker logs` and which changes where every
 * node's log goes; the stderr log is what each provider already keeps (native: a file per node;
 * containers: the container's log). Its prefix (`log_line_prefix`, harness/providers/native/
 * settings.ts) carries what jsonlog would: `%u@%d` (role and database) and `%Q` (the query id,
 * pg_stat_statements.queryid). A plan is a multi-line message: Postgres writes its first line
 * after the prefix and every further line starting with a tab (elog.c's append_with_tabs), so
 * a line that starts with a tab always continues the entry before it, and the JSON inside has
 * no raw tab (JSON escapes them in strings; auto_explain indents with spaces). Each message is
 * one write() to the log, so messages of different backends do not interleave in a file.
 */

/** One message of the server log. */
export interface LogEntry {
  timestamp: string;
  pid: number;
  /** The session's role and database; undefined for a server process that has no session. */
  user?: string;
  database?: string;
  /** `%Q`: 0 when no query id was computed. */
  queryId?: string;
  /** LOG, ERROR, WARNING, … */
  severity: string;
  /** The message, its lines joined with `\n` (the continuation tabs removed). */
  message: string;
}

/** A plan auto_explain logged (`log_format json`). */
export interface LoggedPlan {
  user: string;
  database: string;
  queryId: string;
  durationMs: number;
  /** The statement's text as the server received it (`$1` for parameters). */
  queryText: string;
  plan: PlanNode;
  /** The request whose statements these were (`GET /inspections/17/checklist`), where the caller knows it. */
  request?: string;
}

/** A node of an EXPLAIN (FORMAT JSON, ANALYZE) plan: the fields the claims read, and the rest as logged. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Sort Method'?: string;
  'Sort Space Type'?: string;
  'Sort Space Used'?: number;
  Workers?: Record<string, unknown>[];
  Plans?: PlanNode[];
  [field: string]: unknown;
}

/**
 * The log line prefix every node dbproof reads plans from must have: %u@%d ties a logged plan
 * to the app's role and database, %Q to its statement (pg_stat_statements.queryid).
 */
export const LOG_LINE_PREFIX = '%m [%p] %q%u@%d %Q ';

// `%m [%p] %q%u@%d %Q ` then `SEVERITY:  message`; %q drops the session part for server processes.
const ENTRY =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(\d+)\] (?:(\S*)@(\S*) (-?\d+) )?([A-Z]+\d?): {1,2}(.*)$/;

/** The log's messages; lines before the first recognised one (the tail of an entry read from its middle) are dropped. */
export function parseServerLog(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  let current: LogEntry | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      if (current) current.message += `\n${line.slice(1)}`;
      continue;
    }
    const match = ENTRY.exec(line);
    if (!match) {
      // Not a prefixed line: something else writing to the server's stderr (a library, a shell); it ends the entry.
      current = undefined;
      continue;
    }
    current = {
      timestamp: match[1]!,
      pid: Number(match[2]),
      ...(match[3] !== undefined ? { user: match[3], database: match[4]!, queryId: match[5]! } : {}),
      severity: match[6]!,
      message: match[7]!,
    };
    entries.push(current);
  }
  return entries;
}

const PLAN_MESSAGE = /^duration: ([\d.]+) ms {2}plan:\n([\s\S]*)$/;

/** What a log held: the plans it could read, and how many plan messages it could not (cut short, not JSON). */
export interface PlansRead {
  plans: LoggedPlan[];
  unreadable: number;
  /** The statements run, with their parameters, where `log_min_duration_statement` logged them (else empty). */
  executed: ExecutedStatement[];
}

/** A statement as the server ran it: its text and the values bound to `$1`, `$2`, … (null for NULL). */
export interface ExecutedStatement {
  text: string;
  params: (string | null)[];
}

// `duration: 0.1 ms  execute <unnamed>: SELECT …` (extended protocol) or `duration: 0.1 ms  statement: SELECT …` (simple).
const STATEMENT_MESSAGE = /^duration: [\d.]+ ms {2}(?:execute [^:]*|statement): ([\s\S]*)$/;
const PARAMETER = /\$(\d+) = (NULL|'((?:[^']|'')*)')/g;

/** `parameters: $1 = '17', $2 = NULL`: the values by position, quotes undone. */
export function parseParameters(detail: string): (string | null)[] {
  const params: (string | null)[] = [];
  for (const match of detail.matchAll(PARAMETER))
    params[Number(match[1]) - 1] = match[2] === 'NULL' ? null : match[3]!.replaceAll("''", "'");
  return Array.from(params, (p) => (p === undefined ? null : p));
}

/**
 * The statements `log_min_duration_statement` logged for one role in one database, each with
 * the parameters of the DETAIL line the same backend wrote right after it.
 */
export function executedOf(entries: LogEntry[], role: string, database: string): ExecutedStatement[] {
  const executed: ExecutedStatement[] = [];
  entries.forEach((entry, i) => {
    if (entry.severity !== 'LOG' || entry.user !== role || entry.database !== database) return;
    const match = STATEMENT_MESSAGE.exec(entry.message);
    if (!match) return;
    const detail = entries.slice(i + 1).find((e) => e.pid === entry.pid);
    const params =
      detail?.severity === 'DETAIL' && detail.message.startsWith('parameters:') ? parseParameters(detail.message) : [];
    executed.push({ text: match[1]!, params });
  });
  return executed;
}

/** The auto_explain plans among the log's messages, of one role in one database. */
export function plansOf(entries: LogEntry[], role: string, database: string): PlansRead {
  const plans: LoggedPlan[] = [];
  let unreadable = 0;
  for (const entry of entries) {
    if (entry.severity !== 'LOG' || entry.user !== role || entry.database !== database) continue;
    const match = PLAN_MESSAGE.exec(entry.message);
    if (!match) continue;
    try {
      const explained = JSON.parse(match[2]!) as { 'Query Text'?: string; Plan?: PlanNode };
      if (!explained.Plan || typeof explained.Plan['Node Type'] !== 'string') throw new Error('no plan');
      plans.push({
        user: role,
        database,
        queryId: entry.queryId ?? '0',
        durationMs: Number(match[1]),
        queryText: explained['Query Text'] ?? '',
        plan: explained.Plan,
      });
    } catch {
      unreadable++;
    }
  }
  return { plans, unreadable, executed: [] };
}
