// The order a run takes its suites in: one topology for the suites that leave it as they found
// it (and the load scenarios), one more for each destructive suite; a suite that reads what the
// others saw (headers: every answer the run got) goes after the others of its topology.
import { expect, test } from 'vitest';
import { groupsOf } from '../../harness/run/run.ts';
import type { PlannedSuite } from '../../harness/run/suites.ts';
import { SUITES } from '../../suites/index.ts';

const planned = (...names: string[]): PlannedSuite[] =>
  names.map((name) => ({ suite: SUITES[name as keyof typeof SUITES] as PlannedSuite['suite'], options: {} }));

test('headers runs after the other suites of its topology, whatever order the config gives; the rest keep theirs', () => {
  const groups = groupsOf({ suites: planned('headers', 'n-plus-one', 'replica-lost', 'rate-limit'), scenarios: ['s'] });
  expect(groups[0]!.suites.map((p) => p.suite.name)).toEqual(['n-plus-one', 'replica-lost', 'rate-limit', 'headers']);
  expect(groups[0]!.scenarios).toEqual(['s']);
});

test('a destructive suite gets a topology of its own, after the shared one', () => {
  const groups = groupsOf({ suites: planned('primary-lost', 'headers', 'n-plus-one'), scenarios: [] });
  expect(groups.map((g) => g.suites.map((p) => p.suite.name))).toEqual([['n-plus-one', 'headers'], ['primary-lost']]);
});
