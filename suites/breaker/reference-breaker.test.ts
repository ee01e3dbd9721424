// The reference app's breaker (example/src/breaker.ts) on its own: a fake clock and
// promises the test settles itself, so every interleaving is forced, none is left to
// the machine's speed. What it counts is what the circuit-breaker suite counts.
import { describe, expect, test } from 'vitest';
import { BreakerOpenError, createBreaker } from '../../example/src/breaker.ts';

const nodeDown = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const isFailure = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';

/** A breaker on a clock the test moves, and operations that count how often they reached the node. */
function setup(failures = 3, resetMs = 1000) {
  let time = 0;
  const breaker = createBreaker('primary', { failures, resetMs }, () => time);
  let reached = 0;
  const fail = () =>
    breaker.run(async () => {
      reached++;
      throw nodeDown();
    }, isFailure);
  const succeed = () =>
    breaker.run(async () => {
      reached++;
      return 'ok';
    }, isFailure);
  /** An operation admitted now, settled when the test says. */
  const pending = () => {
    let settle!: (error?: Error) => void;
    const result = breaker.run(
      () =>
        new Promise<string>((resolve, reject) => {
          reached++;
          settle = (error) => (error ? reject(error) : resolve('late'));
        }),
      isFailure,
    );
    result.catch(() => {});
    return { result, settle: (error?: Error) => settle(error) };
  };
  return {
    breaker,
    fail,
    succeed,
    pending,
    reached: () => reached,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe("the reference app's breaker", () => {
  test('opens after exactly `failures` failures in a row: the next call never reaches the node', async () => {
    const b = setup(3);
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow('ECONNREFUSED');
    expect(b.breaker.state).toBe('open');
    await expect(b.succeed()).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(b.succeed()).rejects.toMatchObject({ status: 503, node: 'primary' });
    expect(b.reached()).toBe(3);
  });

  test('a success between failures starts the count again; an error of the statement is the node answering', async () => {
    const b = setup(3);
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    await b.succeed();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.breaker.run(() => Promise.reject(new Error('syntax error')), isFailure)).rejects.toThrow('syntax');
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('closed');
  });

  test('failures far apart are not in a row: a run is forgotten after forgetMs without another failure', async () => {
    // The primary, when reads go to replicas: two failures in a busy moment, then nothing for a minute.
    const b = setup(3);
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    b.advance(60_000);
    // The next outage: it still takes 3 failures to open, not 1.
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('closed');
    b.advance(9_000);
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('open');
  });

  test('an opening no trial followed is forgotten too: the next outage, minutes later, takes `failures` failures again', async () => {
    // The primary after an outage, while every read goes to the replicas: no call comes to try it.
    const b = setup(3, 1000);
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(5_000);
    expect(b.breaker.state).toBe('half-open');
    b.advance(60_000);
    expect(b.breaker.state).toBe('closed');
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('closed');
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('open');
    expect(b.reached()).toBe(6);
  });

  test('calls in flight when it opened neither keep it open longer nor close it', async () => {
    const b = setup(2, 1000);
    const slow = [b.pending(), b.pending(), b.pending(), b.pending()];
    slow[0]!.settle(nodeDown());
    slow[1]!.settle(nodeDown());
    await Promise.allSettled([slow[0]!.result, slow[1]!.result]);
    expect(b.breaker.state).toBe('open');
    // 900 ms later, a call admitted while it was closed fails, and another one succeeds:
    // neither was a trial, so the breaker stays open, and its trial is still due at 1000 ms, not 1900.
    b.advance(900);
    slow[2]!.settle(nodeDown());
    await slow[2]!.result.catch(() => {});
    slow[3]!.settle();
    await expect(slow[3]!.result).resolves.toBe('late');
    expect(b.breaker.state).toBe('open');
    b.advance(100);
    expect(b.breaker.state).toBe('half-open');
    expect(b.reached()).toBe(4);
  });

  test('after resetMs one trial goes through while the others fail at once; its success closes it, its failure reopens it', async () => {
    const b = setup(1, 1000);
    await expect(b.fail()).rejects.toThrow();
    b.advance(1000);
    const trial = b.pending();
    await expect(b.succeed()).rejects.toBeInstanceOf(BreakerOpenError);
    trial.settle(nodeDown());
    await expect(trial.result).rejects.toThrow('ECONNREFUSED');
    expect(b.breaker.state).toBe('open');
    b.advance(999);
    await expect(b.succeed()).rejects.toBeInstanceOf(BreakerOpenError);
    b.advance(1);
    await expect(b.succeed()).resolves.toBe('ok');
    expect(b.breaker.state).toBe('closed');
    expect(b.reached()).toBe(3);
  });

  test('without options there is no breaker (the naive variant): every call reaches the node', async () => {
    const breaker = createBreaker('primary', undefined);
    let reached = 0;
    for (let i = 0; i < 10; i++)
      await expect(
        breaker.run(async () => {
          reached++;
          throw nodeDown();
        }, isFailure),
      ).rejects.toThrow();
    expect(reached).toBe(10);
    expect(breaker.state).toBe('closed');
  });
});
