// Issue 18: the headers suite's rules, each breached for its own reason and held by a good answer.
import { describe, expect, test } from 'vitest';
import { breaches, RULES, type RuleName } from '../../suites/headers/rules.ts';

const GOOD: [string, string][] = [
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['set-cookie', 'sid=1; Path=/; Secure; HttpOnly; SameSite=Lax'],
];
const ALL = Object.keys(RULES) as RuleName[];
const answer = (change: (headers: Headers) => void) => {
  const headers = new Headers(GOOD);
  change(headers);
  return headers;
};

describe('header rules', () => {
  test('a good answer breaks none', () => {
    expect(breaches(new Headers(GOOD), ALL)).toEqual({});
  });

  test.each<[RuleName, (h: Headers) => void, string]>([
    ['hsts', (h) => h.delete('strict-transport-security'), 'no Strict-Transport-Security'],
    [
      'hsts',
      (h) => h.set('strict-transport-security', 'max-age=3600'),
      'Strict-Transport-Security max-age below 180 days: max-age=3600',
    ],
    ['csp', (h) => h.delete('content-security-policy'), 'no Content-Security-Policy'],
    [
      'csp',
      (h) => h.set('content-security-policy', "script-src 'self' 'unsafe-inline'"),
      "Content-Security-Policy allows 'unsafe-inline'",
    ],
    ['nosniff', (h) => h.delete('x-content-type-options'), 'no X-Content-Type-Options: nosniff'],
    ['referrer', (h) => h.set('referrer-policy', 'unsafe-url'), 'Referrer-Policy unsafe-url'],
    ['leaks', (h) => h.set('x-powered-by', 'Express'), 'x-powered-by: Express'],
    ['leaks', (h) => h.set('server', 'nginx/1.25.3'), 'Server: nginx/1.25.3'],
    ['cookies', (h) => h.set('set-cookie', 'sid=1; Path=/; HttpOnly'), 'cookie sid without Secure, SameSite'],
  ])('%s: %s', (rule, change, problem) => {
    expect(breaches(answer(change), ALL)).toEqual({ [rule]: problem });
  });

  test('framing: X-Frame-Options or CSP frame-ancestors; neither breaks it', () => {
    expect(
      breaches(
        answer((h) => h.delete('x-frame-options')),
        ['framing'],
      ),
    ).toEqual({});
    const neither = answer((h) => {
      h.delete('x-frame-options');
      h.set('content-security-policy', "default-src 'self'");
    });
    expect(breaches(neither, ['framing'])).toEqual({ framing: 'no X-Frame-Options or CSP frame-ancestors' });
  });

  test('a rule that is off is not checked', () => {
    expect(breaches(new Headers(), ['nosniff'])).toEqual({ nosniff: 'no X-Content-Type-Options: nosniff' });
  });
});
