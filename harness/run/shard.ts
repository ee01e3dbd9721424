import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';

/**
 * Sharding for CI matrices, as Playwright's and Vitest's `--shard 2/3`: each shard runs a
 * deterministic share of the config's suites and load scenarios, and `dbproof merge` joins
 * the shards' results into one run. Pure: the plan applies the share (harness/run/plan.ts).
 */

/** Shard `index` of `total`, both counted from 1. */
export interface Shard {
  index: number;
  total: number;
}

const EXAMPLE = 'e.g. --shard 2/3 for the second of three shards';

/** `--shard INDEX/TOTAL` from the command line, or one line naming what is wrong and the fix. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new UsageError(`--shard must be INDEX/TOTAL, ${EXAMPLE} (got '${text}')`);
  return checkShard({ index: Number(match[1]), total: Number(match[2]) }, `--shard ${text}`);
}

/** A shard a caller gave (the CLI or a script's `planRun({ shard })`): whole numbers, 1 ≤ index ≤ total. */
export function checkShard(shard: Shard, what = `shard ${shard.index}/${shard.total}`): Shard {
  const { index, total } = shard;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(total))
    throw new UsageError(`${what}: give whole numbers, ${EXAMPLE}`);
  if (total < 1) throw new UsageError(`${what}: there must be at least 1 shard, ${EXAMPLE}`);
  if (index < 1) throw new UsageError(`${what}: shards count from 1, give 1/${total} to ${total}/${total}`);
  if (index > total)
    throw new UsageError(`${what}: there are only ${total} shard(s), give 1/${total} to ${total}/${total}`);
  return { index, total };
}

/** What the share needs of a planned suite: its name, and whether it needs a topology of its own. */
export interface ShardableSuite {
  suite: { name: string; requires: { destructive?: boolean } };
}

export interface Share<S> {
  /** The shard's suites and scenarios, in the order the config gave them. */
  suites: S[];
  scenarios: string[];
  /** Said before the run starts: a shard the share gave nothing runs nothing and passes. */
  notices: string[];
}

/**
 * The shard's share of the suites and scenarios. Every one of them is in exactly one shard
 * of `total`, whatever the total, and the same one on every machine: the share depends on
 * the names only, never on the config's order or on time.
 *
 * Balanced: the destructive suites (each starts a topology of its own), then the other
 * suites, then the scenarios, each kind sorted by name, are dealt round-robin from shard 1.
 * Each shard gets as many of each kind as any other, give or take one, and as many items in
 * all, give or take one. A shard left with nothing (more shards than items) runs nothing
 * and passes, as Playwright's does.
 */
export function shareOf<S extends ShardableSuite>(suites: S[], scenarios: string[], shard: Shard): Share<S> {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const names = (destructive: boolean) =>
    suites
      .filter((s) => Boolean(s.suite.requires.destructive) === destructive)
      .map((s) => `suite ${s.suite.name}`)
      .sort(byName);
  const dealt = [...names(true), ...names(false), ...scenarios.map((name) => `load ${name}`).sort(byName)];
  const mine = new Set(dealt.filter((_, i) => i % shard.total === shard.index - 1));
  const nothing = `shard ${shard.index}/${shard.total} has nothing to run: the ${dealt.length} suite(s) and scenario(s) of the config went to shards 1–${dealt.length}; it passes, and \`dbproof merge\` counts it`;
  return {
    suites: suites.filter((s) => mine.has(`suite ${s.suite.name}`)),
    scenarios: scenarios.filter((name) => mine.has(`load ${name}`)),
    notices: mine.size === 0 ? [nothing] : [],
  };
}

/**
 * The identity of a run's work: a hash of its suites (names and options as the config gives
 * them) and scenarios (names and resolved options), before any sharding. Shards of one config share it; a merge of shards whose
 * hashes differ would join runs of different configs, and is refused.
 */
export function workHash(suites: { name: string; options: unknown }[], scenarios: Record<string, unknown>): string {
  const work = {
    suites: [...suites].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    scenarios,
  };
  return createHash('sha256').update(canonicalJson(work)).digest('hex').slice(0, 16);
}

/**
 * JSON with every object's keys sorted, so the hash does not depend on the order a config
 * was written in. A function (a team's hook) counts by its name; a value met again inside
 * itself is a cycle, not an endless string.
 */
function canonicalJson(value: unknown, within: unknown[] = []): string {
  if (typeof value === 'function') return JSON.stringify(`[function ${value.name}]`);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return canonicalJson((value as { toJSON(): unknown }).toJSON(), within);
  if (within.includes(value)) return '"[cycle]"';
  const inner = [...within, value];
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, inner)).join(',')}]`;
  const keys = Object.keys(value).sort();
  const entries = keys
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key], inner)}`);
  return `{${entries.join(',')}}`;
}
