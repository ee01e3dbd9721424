// The order a run takes its suites in: one topology for the suites that leave it as they found
// it (and the load scenarios), one more for each destructive suite; a suite that reads what the
// others saw (headers: every answer the run got) goes after the other suites and the load
// scenarios of its topology.
import { expect, test } from 'vitest';
import { groupsOf, type Work } from '../../harness/run/run.ts';
import type { PlannedSuite } from '../../harness/run/suites.ts';
import { SUITES } from '../../suites/index.ts';

const order = (work: Work[]) => work.map((w) => ('suite' in w ? w.suite.suite.name : `load ${w.scenario}`));
const planned = (...names: string[]): PlannedSuite[] =>
  names.map((name) => ({ suite: SUITES[name as keyof typeof SUITES] as PlannedSuite['suite'], options: {} }));

test('headers runs after the other suites and the scenarios of its topology, whatever order the config gives; the rest keep theirs', () => {
  const groups = groupsOf({
    suites: planned('headers', 'n-plus-one', 'replica-lost', 'rate-limit'),
    scenarios: ['s', 't'],
  });
  expect(order(groups[0]!.work)).toEqual(['n-plus-one', 'replica-lost', 'rate-limit', 'load s', 'load t', 'headers']);
});

test('scenarios alone, or suites alone, keep one topology', () => {
  expect(groupsOf({ suites: [], scenarios: ['s'] }).map((g) => order(g.work))).toEqual([['load s']]);
  expect(groupsOf({ suites: planned('headers'), scenarios: [] }).map((g) => order(g.work))).toEqual([['headers']]);
  expect(groupsOf({ suites: [], scenarios: [] })).toEqual([]);
});

test('a destructive suite gets a topology of its own, after the shared one', () => {
  const groups = groupsOf({ suites: planned('primary-lost', 'n-plus-one'), scenarios: ['s'] });
  expect(groups.map((g) => order(g.work))).toEqual([['n-plus-one', 'load s'], ['primary-lost']]);
});

test("with headers (which reads the whole run's answers) the shared topology goes after the destructive ones", () => {
  const groups = groupsOf({
    suites: planned('primary-lost', 'headers', 'n-plus-one', 'replica-lost'),
    scenarios: ['s'],
  });
  expect(groups.map((g) => order(g.work))).toEqual([
    ['primary-lost'],
    ['n-plus-one', 'replica-lost', 'load s', 'headers'],
  ]);
});
