// "Security headers on every response": the reference app sets them before it routes, so its
// 404, 429 and 500 answers carry them too; its naive variant sets them only on the happy
// path, and the suite names the answers that go out bare.
import { describe, expect, test } from 'vitest';
import { referenceTargets, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { headers } from './headers.ts';
import { workerTopology } from '../../harness/vitest/index.ts';
import { Session } from '../../harness/http/session.ts';
import { runScenario, scenarioSchema } from '../../load/scenario.ts';

const topology = workerTopology();
const seed = { scale: 0.001, seed: 18 };
const targets = referenceTargets(topology, {
  good: { seed },
  successOnly: { name: 'reference app, headers on 2xx only', env: { EXAMPLE_HEADERS: 'success-only' }, seed },
});

describe('headers', () => {
  test('every kind of answer (200, a cookie, 404, 429, 500) carries every header', async () => {
    const result = await runOn(headers, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
    // Its five, and what the app answered before (its readiness checks) as seen.
    const seen = result.measurements.answersSeen as number;
    expect(result.measurements).toMatchObject({ answers: 5 + seen, answers4xx: 2, answers5xx: 1 });
  });

  test('headers set only on 2xx: each rule fails, naming the 404, 429 and 500 answers and not the 200s', async () => {
    const result = await runOn(headers, targets.successOnly);
    for (const rule of ['hsts', 'csp', 'nosniff', 'framing', 'referrer'])
      expect(verdictOn(result, `${rule}Breaches`).measured, verdictLines(result)).toBe(3);
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.evidence).toBe(
      'GET /dbproof-no-such-page 404: no X-Content-Type-Options: nosniff; GET /api/inspections/1 429: no X-Content-Type-Options: nosniff; GET /slow?ms=3000 500: no X-Content-Type-Options: nosniff',
    );
    // The rules the switch does not touch still hold.
    expect(verdictOn(result, 'cookiesBreaches').pass, verdictLines(result)).toBe(true);
    expect(verdictOn(result, 'leaksBreaches').pass, verdictLines(result)).toBe(true);
  });

  test("answers the run's other suites got are held to the rules too, named as seen; an app's answers to another app's suites are not", async () => {
    // What another suite would have sent: a read and a path the app does not have.
    const other = new Session(targets.successOnly.context.app.url);
    await other.send({ method: 'GET', path: '/inspections/{id}' }, { id: 2 });
    await other.send({ method: 'GET', path: '/dbproof-elsewhere/{id}' }, { id: 7 });
    await new Session(targets.good.context.app.url).send({ method: 'GET', path: '/dbproof-good-app-only' });
    const asked = { requests: [{ request: 'GET /inspections/1', status: 200 }] };
    const result = await runOn(headers, targets.successOnly, asked);
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.pass, verdictLines(result)).toBe(false);
    // Among them the answers the test before got from this app.
    expect(nosniff.evidence).toContain('GET /dbproof-elsewhere/{id} 404 (seen): no X-Content-Type-Options: nosniff');
    expect(result.notes.join('\n')).toMatch(/GET \/inspections\/\{id\} 200 \(seen\)/);
    expect(result.notes.join('\n')).not.toMatch(/dbproof-good-app-only/);
    // Only the answers it asks for: the seen 404 is not judged.
    const askedOnly = await runOn(headers, targets.successOnly, { ...asked, seen: false });
    expect(askedOnly.pass, verdictLines(askedOnly)).toBe(true);
    expect(askedOnly.measurements).toMatchObject({ answers: 1, answersSeen: 0 });
  });

  test("a load scenario's answers (the open model's own connections) are held to the rules too: a 404 only the scenario provoked fails, named", async () => {
    await runScenario(
      targets.successOnly.context.app.url,
      'headers-seen',
      scenarioSchema.parse({
        mix: [{ request: 'GET /dbproof-scenario-only/{id}' }],
        ids: { from: 1, to: 9 },
        rate: 20,
        durationMs: 500,
        warmupMs: 0,
      }),
    );
    const result = await runOn(headers, targets.successOnly, {
      requests: [{ request: 'GET /inspections/1', status: 200 }],
    });
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.pass, verdictLines(result)).toBe(false);
    expect(nosniff.evidence).toContain(
      'GET /dbproof-scenario-only/{id} 404 (seen): no X-Content-Type-Options: nosniff',
    );
  });

  test("with several instances each one's answers are judged apart and named by number: one set up differently is found", async () => {
    await new Session(targets.good.context.app.url).send(
      { method: 'GET', path: '/dbproof-instance-two/{id}' },
      { id: 1 },
    );
    await new Session(targets.successOnly.context.app.url).send(
      { method: 'GET', path: '/dbproof-instance-two/{id}' },
      { id: 1 },
    );
    // The good app stands in as instance 2 of the success-only one: same request, two set-ups.
    const context = targets.successOnly.context;
    const twoInstances = {
      ...targets.successOnly,
      context: { ...context, app: { ...context.app, urls: [context.app.url, targets.good.context.app.url] } },
    };
    const result = await runOn(headers, twoInstances, { requests: [{ request: 'GET /inspections/1', status: 200 }] });
    const checked = result.notes.join('\n');
    expect(checked).toContain('GET /dbproof-instance-two/{id} 404 (seen on instance 1)');
    expect(checked).toContain('GET /dbproof-instance-two/{id} 404 (seen on instance 2)');
    // Instance 1's bare 404 breaks the rule; instance 2's answer to the same request does not.
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.pass, verdictLines(result)).toBe(false);
    expect(nosniff.evidence).toMatch(/\(seen on instance 1\): no X-Content-Type-Options/);
    expect(nosniff.evidence).not.toContain('(seen on instance 2)');
  });

  test("the suite's own request answered on another instance is judged there: its own answers are instance 1's only; one instance, one answer of a kind", async () => {
    // Another suite sent the request this suite lists to instance 2 (the success-only app), twice as written differently.
    const two = targets.successOnly.context.app.url;
    await new Session(two).send({ method: 'GET', path: '/dbproof-listed' });
    await new Session(`${two}/`).send({ method: 'GET', path: '/dbproof-listed' });
    const context = targets.good.context;
    const twoInstances = {
      ...targets.good,
      context: { ...context, app: { ...context.app, urls: [context.app.url, two] } },
    };
    const result = await runOn(headers, twoInstances, { requests: [{ request: 'GET /dbproof-listed', status: 404 }] });
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.pass, verdictLines(result)).toBe(false);
    // Among the success-only app's answers the tests before got (it is instance 2 here).
    expect(result.notes.join('\n')).toContain('GET /dbproof-listed 404, ');
    expect(nosniff.evidence).not.toMatch(/GET \/dbproof-listed 404:/);
    // Judged on instance 2 (the notes list every answer checked), once for both ways of writing its URL.
    expect(result.notes.join('\n').match(/GET \/dbproof-listed 404 \(seen on instance 2\)/g)).toHaveLength(1);
  });

  test("the same app's answers on a topology stopped earlier in the run (a destructive suite's) are judged too, named as such", async () => {
    await new Session(targets.successOnly.context.app.url).send(
      { method: 'GET', path: '/dbproof-earlier/{id}' },
      { id: 1 },
    );
    // The success-only app stands in as the copy a destructive suite had; the good one is this topology's.
    const context = targets.good.context;
    const afterDestructive = {
      ...targets.good,
      context: { ...context, app: { ...context.app, earlierUrls: [targets.successOnly.context.app.url] } },
    };
    const result = await runOn(headers, afterDestructive, {
      requests: [{ request: 'GET /inspections/1', status: 200 }],
    });
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.pass, verdictLines(result)).toBe(false);
    expect(nosniff.evidence).toMatch(/\(seen earlier in the run\): no X-Content-Type-Options/);
    expect(result.notes.join('\n')).toContain('GET /dbproof-earlier/{id} 404 (seen earlier in the run)');
    // Without them, the good app's own answers pass.
    const ownOnly = await runOn(headers, targets.good, { requests: [{ request: 'GET /inspections/1', status: 200 }] });
    expect(ownOnly.pass, verdictLines(ownOnly)).toBe(true);
  });

  test('a request that does not answer the status it is listed for is bad input, in one line', async () => {
    await expect(
      runOn(headers, targets.good, { requests: [{ request: 'GET /inspections/1', status: 500 }] }),
    ).rejects.toThrow(
      /^suite headers: GET \/inspections\/1 answered 200, not the 500 it is listed for \(after 1 request\(s\)\)/,
    );
  });
});
