// "Batched, with a per-item fallback when the batch fails": the reference app's batch
// endpoint (a savepoint per item on the fallback, the batch id as an idempotency key) keeps
// every promise, under both faults too; each naive switch breaks the one it should, and the
// suite says which items and why. Bad input is refused in one line before any item is sent.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { z } from 'zod';
import { UsageError } from '../../harness/errors.ts';
import { databaseUrl, queryRows } from '../../harness/pg/client.ts';
import { resolveSuiteOptions } from '../../harness/suite/index.ts';
import { runCliWithin } from '../../test/safety/validation-support.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { runOn, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { batchFallback } from './batch-fallback.ts';
import { exampleAppCommand } from '../../example/launch.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const started: ReferenceTarget[] = [];
afterAll(() => Promise.all(started.map((t) => t.stop())));

/** The reference app with its batch switches set as given (the good one with none). */
async function app(env: Record<string, string> = {}): Promise<ReferenceTarget> {
  const target = await startReferenceTarget(topology, { env, redis: false });
  started.push(target);
  return {
    ...target,
    name: Object.keys(env).length ? `reference app (${Object.entries(env).flat().join('=')})` : target.name,
  };
}

/** One bad item in the middle of a batch, one kind, no fault: enough for a switch that breaks every fallback. */
const ONE_CASE: z.input<typeof batchFallback.options> = {
  positions: ['middle'],
  kinds: ['check'],
  resend: false,
  faults: { kill: false, freeze: false },
  reads: [],
};
const MEDIA_READ = { request: 'GET /inspections/1/media-batched?items=30', lockTable: 'media' };
const findingsIn = (target: ReferenceTarget) =>
  queryRows<{ n: number }>(
    databaseUrl(topology.primary.adminUrl, target.context.database),
    'SELECT count(*)::int AS n FROM findings',
  ).then((rows) => rows[0]!.n);

test('the reference app stores every good item once and reports every item as it ended, at each place and of each kind, under both faults', async () => {
  const result = await runOn(batchFallback, await app());
  expect(result.pass, verdictLines(result)).toBe(true);
  const m = (name: string) => result.measurements[`${name} POST /findings/batch`];
  // 5 places × 4 kinds, the holder of the unique value, 12 cost batches, a batch sent twice, a rehearsal and 2 faults.
  expect(m('batches')).toBeGreaterThanOrEqual(37);
  expect(m('happyStatementsPerItem')).toBe(0);
  expect(m('fallbackStatementsPerItem')).toBe(3); // SAVEPOINT, INSERT, RELEASE per item
  expect(result.events.map((e) => e.kind)).toEqual(['reset_peer', 'pause', 'cancel', 'cancel', 'cancel']);
  expect(result.findings).toEqual([]);
  // The batched media read, its batched statement cancelled three times, answered each time as unforced.
  expect(verdictOn(result, 'readFallbackFailures')).toMatchObject({ pass: true, measured: 0 });
});

test('a batched read without its per-item fallback (EXAMPLE_BATCH_READ_FALLBACK=off) fails when its batched statement is cancelled', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_READ_FALLBACK: 'off' }), {
    ...ONE_CASE,
    reads: [MEDIA_READ],
  });
  const read = verdictOn(result, 'readFallbackFailures');
  expect(read.pass, verdictLines(result)).toBe(false);
  expect(read.evidence).toMatch(/#1: HTTP 500 .*canceling statement/);
  // The cancel struck each time: what failed is the app, not the fault.
  expect(result.verdicts.filter((v) => v.budget.metric === 'faultsMissed').map((v) => v.pass)).toEqual([true]);
});

test('a freeze longer than the app’s timeout fails the batch as a whole with nothing stored; sent again, each item is stored once', async () => {
  const result = await runOn(batchFallback, await app(), {
    ...ONE_CASE,
    faults: { kill: false, freeze: true, freezeMs: 3000 },
  });
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements['faultedBatchesFailedWhole POST /findings/batch']).toBe(1);
  expect(result.events[0]).toMatchObject({ kind: 'pause', target: 'primary' });
});

test('without a fallback (EXAMPLE_BATCH_FALLBACK=off) a bad item takes its good neighbours with it: lost, by key', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_FALLBACK: 'off' }), ONE_CASE);
  const lost = verdictOn(result, 'lostItems');
  expect(lost.pass, verdictLines(result)).toBe(false);
  expect(lost.evidence).toMatch(/item \d+ \(good, bf-[0-9a-f]+-\d+-\d+\) not stored: the batch was answered HTTP 422/);
  expect(verdictOn(result, 'duplicatedItems').pass).toBe(true);
});

test('a fallback inside the transaction the batch error aborted (EXAMPLE_BATCH_SAVEPOINTS=off) stores nothing', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_SAVEPOINTS: 'off' }), ONE_CASE);
  const lost = verdictOn(result, 'lostItems');
  expect(lost.pass, verdictLines(result)).toBe(false);
  expect(lost.evidence).toMatch(/HTTP 500 .*current transaction is aborted/);
});

test('without idempotency (EXAMPLE_BATCH_IDEMPOTENCY=off) a batch sent again and a fallback retried after a reset write good items twice', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_IDEMPOTENCY: 'off' }), {
    ...ONE_CASE,
    resend: true,
    faults: { kill: true, freeze: false },
  });
  const duplicated = verdictOn(result, 'duplicatedItems');
  expect(duplicated.pass, verdictLines(result)).toBe(false);
  expect(duplicated.evidence).toMatch(/^sent twice, again: item 0 \(good, [^)]+\) stored 2 times/);
  expect(verdictOn(result, 'faultsMissed').pass, verdictLines(result)).toBe(true);
  // The reset struck mid-fallback: what the first attempt committed, the retry wrote again.
  expect(result.measurements['duplicatedItems POST /findings/batch']).toBeGreaterThan(9);
  expect(verdictOn(result, 'lostItems').pass).toBe(true);
});

test('positions reported off by one (EXAMPLE_BATCH_POSITIONS=off-by-one): the bad item reported stored, its neighbour failed', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_POSITIONS: 'off-by-one' }), ONE_CASE);
  const bad = verdictOn(result, 'badReportedStored');
  expect(bad.pass, verdictLines(result)).toBe(false);
  expect(bad.evidence).toMatch(/: item 5 \(check, [^)]+\) reported stored/);
  expect(verdictOn(result, 'goodReportedFailed').evidence).toMatch(/item 0 \(good, [^)]+\) not in the answer/);
  expect(verdictOn(result, 'lostItems').pass).toBe(true);
});

test('a "batch" that is one INSERT per item (EXAMPLE_BATCH_INSERT=per-item) is flagged as an N+1 on the happy path, with the statement', async () => {
  const result = await runOn(batchFallback, await app({ EXAMPLE_BATCH_INSERT: 'per-item' }), ONE_CASE);
  const happy = verdictOn(result, 'happyStatementsPerItem');
  expect(happy).toMatchObject({ pass: false, measured: 1 });
  expect(happy.evidence).toMatch(/^INSERT INTO findings .* VALUES \(\$1, .*\) ran 10 → 40 times at sizes 10 → 40/);
  expect(result.findings).toEqual([
    expect.objectContaining({ countsBySize: { 10: 10, 40: 40 }, slope: 1, hint: expect.stringMatching(/unnest/) }),
  ]);
  expect(verdictOn(result, 'lostItems').pass).toBe(true);
});

test('options are checked before anything starts: no {key} in the item, no {items} in the body, a kind without its fields, a freeze on an external cluster', () => {
  expect(() => resolveSuiteOptions(batchFallback, { endpoints: [{ item: { ref: 'same', severity: 1 } }] })).toThrow(
    /^invalid option suites\.batch-fallback\.endpoints\.0\.item: the item needs one field whose value is '\{key\}'/,
  );
  expect(() => resolveSuiteOptions(batchFallback, { endpoints: [{ body: { rows: [] } }] })).toThrow(
    /endpoints\.0\.body: the body needs the string '\{items\}' once/,
  );
  expect(() =>
    resolveSuiteOptions(batchFallback, {
      kinds: ['check'],
      endpoints: [{ badItems: { tooLong: { summary: '{long}' } } }],
    }),
  ).toThrow(/endpoints\.0\.badItems\.check: kinds has 'check' but badItems has no check/);
  expect(() => resolveSuiteOptions(batchFallback, { positions: [10] })).toThrow(/position 10 is not in a batch of 10/);
  const external = { provider: 'external', replicas: 0, redis: false } as const;
  expect(() => batchFallback.preflight!(resolveSuiteOptions(batchFallback, {}), external)).toThrow(
    /faults\.freeze stops the primary, which an external cluster does not let dbproof do/,
  );
  const unfrozen = resolveSuiteOptions(batchFallback, { faults: { freeze: false } });
  expect(() => batchFallback.preflight!(unfrozen, external)).not.toThrow();
});

test('a kind of bad item the table cannot refuse, an endpoint that answers 404, a read without its table or answering 404: refused in one line before any item is sent', async () => {
  const target = await app();
  const before = await findingsIn(target);
  const notes = { table: 'inspection_notes', keyColumn: 'key', item: { key: '{key}', body: 'b' } };
  const refusal = (options: object) =>
    runOn(batchFallback, target, options).then(
      () => undefined,
      (error: Error) => error,
    );
  const kind = await refusal({ endpoints: [notes], kinds: ['check', 'tooLong'] });
  expect(kind).toBeInstanceOf(UsageError);
  expect(kind!.message).toMatch(
    /^batch-fallback: POST \/findings\/batch: table inspection_notes cannot refuse a bad item of kind check, tooLong \(it has no CHECK constraint, no column with a length limit/,
  );
  const missing = await refusal({ endpoints: [{ request: 'POST /no-such-batch' }] });
  expect(missing).toBeInstanceOf(UsageError);
  expect(missing!.message).toMatch(/^batch-fallback: POST \/no-such-batch answered 404 .*no batch endpoint there/);
  const noTable = await refusal({ ...ONE_CASE, reads: [{ ...MEDIA_READ, lockTable: 'no_such_table' }] });
  expect(noTable!.message).toMatch(
    /^batch-fallback: GET \/inspections\/1\/media-batched\?items=30: there is no table no_such_table/,
  );
  const noRead = await refusal({ ...ONE_CASE, reads: [{ ...MEDIA_READ, request: 'GET /no-such-read' }] });
  expect(noRead!.message).toMatch(/^batch-fallback: GET \/no-such-read answered 404 without a fault/);
  for (const error of [kind, missing, noTable, noRead]) {
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message).not.toMatch(/\n/);
  }
  expect(await findingsIn(target)).toBe(before);
});

test('on the command line: an item without {key} exits 2 before a topology starts; a 404 endpoint exits 2 in one line', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-batch-'));
  try {
    const config = (suite: object) =>
      `export default ${JSON.stringify({
        topology: { replicas: 0, redis: false },
        dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
        app: { name: 'reference app', command: exampleAppCommand(), ready: '/health' },
        suites: { 'batch-fallback': suite },
      })};\n`;
    writeFileSync(path.join(dir, 'keyless.config.mjs'), config({ endpoints: [{ item: { ref: 'same' } }] }));
    const keyless = await runCliWithin(['test', '--config', 'keyless.config.mjs', '--json'], 30_000, { cwd: dir });
    expect(keyless).toMatchObject({ code: 2, hung: false });
    expect(keyless.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^dbproof: invalid option suites\.batch-fallback\.endpoints\.0\.item: the item needs/),
    ]);
    expect(readdirSync(dir)).toEqual(['keyless.config.mjs']);

    writeFileSync(path.join(dir, 'missing.config.mjs'), config({ endpoints: [{ request: 'POST /no-such-batch' }] }));
    const missing = await runCliWithin(['test', '--config', 'missing.config.mjs', '--json'], 120_000, { cwd: dir });
    expect(missing).toMatchObject({ code: 2, hung: false });
    expect(missing.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^dbproof: batch-fallback: POST \/no-such-batch answered 404 .*no batch endpoint there/),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
