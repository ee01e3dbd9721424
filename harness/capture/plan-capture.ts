import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DbproofError, InfrastructureError } from '../errors.ts';
import { redact } from '../redact.ts';
import type { ServerLog } from '../topology/types.ts';
import { pollUntil } from '../wait.ts';
import { executedOf, LOG_LINE_PREFIX, parseServerLog, plansOf, type PlansRead } from './server-log.ts';

/** A node whose plans are captured: a superuser URL (ALTER SYSTEM) and its server log. */
export interface PlanNodeAccess {
  name: string;
  adminUrl: string;
  serverLog: ServerLog;
}

/**
 * What auto_explain logs while a check runs: every statement (no minimum duration), as JSON,
 * with actual rows (`log_analyze`) but without per-node timing (`log_timing off`: the clock
 * calls are what makes EXPLAIN ANALYZE slow), buffers, and statements run inside functions.
 */
export const AUTO_EXPLAIN_ON: Readonly<Record<string, string>> = {
  'auto_explain.log_min_duration': '0',
  'auto_explain.log_format': 'json',
  'auto_explain.log_analyze': 'on',
  'auto_explain.log_timing': 'off',
  'auto_explain.log_buffers': 'on',
  'auto_explain.log_nested_statements': 'on',
};

/** Beside the plans, every statement with its parameters: what a speed-up claim runs again. */
export const STATEMENTS_LOGGED: Readonly<Record<string, string>> = { log_min_duration_statement: '0' };

/** What a capture logs beyond the plans. */
export interface PlanCaptureOptions {
  /** Also log every statement with its parameters (`log_min_duration_statement = 0`), read as `PlansRead.executed`. */
  statements?: boolean;
}

const SETTLE = { timeoutMs: 10_000, intervalMs: 20 };

/** The refusal when auto_explain is not loaded: one line saying what to change. */
export function autoExplainMissing(node: string): DbproofError {
  return new DbproofError(
    `auto_explain is not loaded on ${node}: the query-plans suite needs it in shared_preload_libraries (dbproof's topologies load 'pg_stat_statements,auto_explain'; remove any topology.postgres.settings.shared_preload_libraries that leaves it out)`,
  );
}

/** The refusal when a node logs another line prefix: the plans' role, database and query id are read from it. */
export function logLinePrefixOther(node: string, prefix: string): DbproofError {
  return new DbproofError(
    `${node} logs with log_line_prefix '${prefix}': the query-plans suite reads each plan's role, database and query id from dbproof's '${LOG_LINE_PREFIX}'; set it so on every node (dbproof's topologies and docker-compose.yml do)`,
  );
}

async function connect(node: PlanNodeAccess): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: node.adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw new InfrastructureError(
      `could not connect to ${node.name} (${redact(node.adminUrl)}): ${redact(String((error as Error).message))}`,
      error,
    );
  }
}

/** The setting as this session sees it: a reload reaches a session between two statements, so it is asked until it shows. */
async function settled(client: pg.Client, node: string, expected: string): Promise<void> {
  const seen = await pollUntil(async () => {
    const { rows } = await client.query<{ value: string }>(
      "SELECT current_setting('auto_explain.log_min_duration') AS value",
    );
    return rows[0]!.value === expected;
  }, SETTLE);
  if (!seen)
    throw new InfrastructureError(
      `${node}: auto_explain.log_min_duration did not become ${expected} within ${SETTLE.timeoutMs} ms of pg_reload_conf()`,
    );
}

/** Plan capture turned on, on every node: read the plans of a stretch of traffic with `plans`. */
export interface PlanCapture {
  /**
   * Runs `traffic` and returns the plans the nodes logged meanwhile for `role` in `database`.
   * A statement dbproof runs on each node afterwards (a fence) is waited for in the log, so
   * every plan logged before it is in the text read (the containers' log arrives through the
   * engine, a little later than the statement ends).
   */
  plans(traffic: () => Promise<void>, role: string, database: string): Promise<PlansRead>;
}

/**
 * Turns auto_explain on, on every node (ALTER SYSTEM, pg_reload_conf(), until each node shows
 * it), runs `check`, and turns it off again however `check` ends (RESET, reload, until shown).
 */
export async function withPlanCapture<T>(
  nodes: PlanNodeAccess[],
  check: (capture: PlanCapture) => Promise<T>,
  options: PlanCaptureOptions = {},
): Promise<T> {
  const settings = { ...AUTO_EXPLAIN_ON, ...(options.statements ? STATEMENTS_LOGGED : {}) };
  const clients: pg.Client[] = [];
  try {
    for (const node of nodes) clients.push(await connect(node));
    await Promise.all(
      clients.map(async (client, i) => {
        const { rows } = await client.query<{ value: string | null }>(
          "SELECT current_setting('auto_explain.log_min_duration', true) AS value",
        );
        // A library in shared_preload_libraries defines its settings in every session; absent, it is not loaded.
        if (rows[0]!.value === null) throw autoExplainMissing(nodes[i]!.name);
        // A stack of the team's own (compose.file) may log another prefix: its plans could not be tied to the app.
        const prefix = (await client.query<{ value: string }>("SELECT current_setting('log_line_prefix') AS value"))
          .rows[0]!.value;
        if (prefix !== LOG_LINE_PREFIX) throw logLinePrefixOther(nodes[i]!.name, prefix);
        // dbproof's own statements stay out of pg_stat_statements, as StatementWatcher's do.
        await client.query('SET pg_stat_statements.track = none').catch(() => {});
      }),
    );
    await Promise.all(clients.map((client, i) => turnOn(client, nodes[i]!.name, settings)));
    try {
      return await check({ plans: (traffic, role, database) => capturePlans(nodes, clients, traffic, role, database) });
    } finally {
      await Promise.all(clients.map((client, i) => turnOff(client, nodes[i]!.name, settings)));
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

async function turnOn(client: pg.Client, node: string, settings: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(settings))
    await client.query(`ALTER SYSTEM SET ${name} = ${pg.escapeLiteral(value)}`);
  await client.query('SELECT pg_reload_conf()');
  await settled(client, node, '0');
}

async function turnOff(client: pg.Client, node: string, settings: Record<string, string>): Promise<void> {
  for (const name of Object.keys(settings)) await client.query(`ALTER SYSTEM RESET ${name}`);
  await client.query('SELECT pg_reload_conf()');
  await settled(client, node, '-1');
}

async function capturePlans(
  nodes: PlanNodeAccess[],
  clients: pg.Client[],
  traffic: () => Promise<void>,
  role: string,
  database: string,
): Promise<PlansRead> {
  const marks = await Promise.all(nodes.map((node) => node.serverLog.mark()));
  await traffic();
  const fence = `dbproof-fence-${randomBytes(6).toString('hex')}`;
  const texts = await Promise.all(
    nodes.map(async (node, i) => {
      await clients[i]!.query(`SELECT '${fence}' AS fence`);
      const text = await pollUntil(async () => {
        const logged = await node.serverLog.since(marks[i]!);
        return logged.includes(fence) ? logged : undefined;
      }, SETTLE);
      if (text === undefined)
        throw new InfrastructureError(
          `${node.name}: the server log did not show dbproof's own statement within ${SETTLE.timeoutMs} ms: is the node's log readable (its stderr)?`,
        );
      return text;
    }),
  );
  const entries = texts.map(parseServerLog);
  const read = entries.map((logged) => plansOf(logged, role, database));
  return {
    plans: read.flatMap((r) => r.plans),
    unreadable: read.reduce((n, r) => n + r.unreadable, 0),
    executed: entries.flatMap((logged) => executedOf(logged, role, database)),
  };
}
