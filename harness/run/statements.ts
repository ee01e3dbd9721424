import { StatementWatcher } from '../capture/black-box.ts';
import {
  compareTopStatements,
  forTheRecord,
  type TopStatement,
  topStatementsOf,
  withPlanShapes,
} from '../capture/top-statements.ts';
import { atMost, judge } from '../budgets/index.ts';
import { databaseUrl } from '../pg/client.ts';
import { redact } from '../redact.ts';
import type { LoadResult } from '../results/run-result.ts';
import type { Baseline } from './baseline.ts';
import type { Environment } from './environment.ts';

export interface TopStatementsOptions {
  count: number;
  gate: boolean;
  buffersTolerance: number;
  buffersMin: number;
  newMinShare: number;
}

/**
 * Runs `load` with pg_stat_statements watched on every node for the app's role and database,
 * and hands back its result with the 2 × `count` statements that cost it the most (generic plan
 * shapes read on the primary). A cluster without pg_stat_statements says so through `warn`
 * and the load runs unwatched: the scenario's own verdicts do not depend on it.
 */
export async function withTopStatements(
  environment: Pick<Environment, 'topology' | 'database'>,
  options: TopStatementsOptions,
  warn: (line: string) => void,
  load: () => Promise<LoadResult>,
): Promise<LoadResult> {
  if (options.count === 0) return load();
  const { topology, database } = environment;
  const role = decodeURIComponent(new URL(topology.primary.url).username);
  const nodes = [topology.primary, ...topology.replicas].map((node) => ({ name: node.name, adminUrl: node.adminUrl }));
  let watcher: StatementWatcher;
  try {
    watcher = await StatementWatcher.open(nodes, role, database);
  } catch (error) {
    warn(`the top statements are not kept: ${redact((error as Error).message)}`);
    return load();
  }
  try {
    const { value, events } = await watcher.capture(load);
    // Twice the count kept: a statement that trades places at the edge of the top N next time is not new.
    // Planned with pg_stat_statements' own text; kept normalised by the parser and redacted.
    const top = topStatementsOf(events, 2 * options.count);
    const planned = await withPlanShapes(databaseUrl(topology.primary.adminUrl, database), role, top).catch(() => top);
    return { ...value, statements: planned.map((s) => forTheRecord(s, redact)) };
  } finally {
    await watcher.close();
  }
}

/**
 * The load's top statements against the baseline's load of the same name (when both kept
 * them): the changes recorded, and with `gate` a verdict that fails on any. A count, never a
 * time: a busy machine does not excuse it.
 */
export function compareStatementsWithBaseline(
  result: LoadResult,
  baseline: Baseline,
  options: TopStatementsOptions,
): void {
  const before = baseline.run?.loads.find((l) => l.name === result.name)?.statements;
  if (!before || !result.statements) return;
  const changes = compareTopStatements(result.statements.slice(0, options.count), before as TopStatement[], options);
  result.statementChanges = changes;
  if (!options.gate) return;
  result.verdicts.push(
    judge(
      `its top ${options.count} statements are those of the baseline, with the same plans and buffers per call`,
      atMost('topStatementChanges', 0, 'count', `load ${result.name}`),
      changes.length,
      changes.length
        ? changes
            .slice(0, 5)
            .map((c) => `${oneLine(c.query)}: ${c.evidence}`)
            .join('; ') + (changes.length > 5 ? `; and ${changes.length - 5} more` : '')
        : undefined,
    ),
  );
}

const oneLine = (query: string) => {
  const line = query.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
};
