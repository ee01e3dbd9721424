// Every schema at dbproof's edge says a refusal the same way: the field as a dotted path,
// then what it should be.
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { zodIssue } from '../../harness/errors.ts';

const schema = z
  .object({ app: z.object({ url: z.string().url('an http:// URL') }), replicas: z.number().max(8, 'at most 8') })
  .strict();
const errorOf = (value: unknown) => schema.safeParse(value).error!;

describe('zodIssue', () => {
  test.each([
    ['a nested field', { app: { url: 'x' }, replicas: 1 }, 'config', [], 'app.url: an http:// URL'],
    [
      'a field under a prefix',
      { app: { url: 'http://a' }, replicas: 9 },
      '',
      ['suites', 'replica-lost'],
      'suites.replica-lost.replicas: at most 8',
    ],
    ['the whole value, named', 'nope', 'config', [], /^config: /],
    ['the whole value under a prefix', 'nope', '', ['suites', 'x'], /^suites\.x: /],
  ])('%s', (_, value, whole, under, expected) => {
    const text = zodIssue(errorOf(value), whole, under);
    if (typeof expected === 'string') expect(text).toBe(expected);
    else expect(text).toMatch(expected);
  });
  test('only the first problem is said', () => {
    expect(zodIssue(errorOf({ app: { url: 'x' }, replicas: 9 }), 'config')).toBe('app.url: an http:// URL');
  });
});
