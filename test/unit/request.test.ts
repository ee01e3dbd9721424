// One reading of request strings for suites, load scenarios and the N+1 check: each caller
// states what it can send (methods, a placeholder the path must hold) and its own hint.
import { describe, expect, test } from 'vitest';
import { parseRequestLine, requestString } from '../../harness/http/request.ts';

describe('requestString with no rules takes every method', () => {
  const field = requestString();
  test.each(['GET /x', 'POST /a/{id}', 'PUT /a', 'PATCH /a', 'DELETE /'])('%j is accepted as written', (text) => {
    expect(field.parse(text)).toBe(text);
  });
  test.each(['FETCH /x', 'GET x', 'get /x', ' GET /x', 'GET /a b'])('%j is refused with the default hint', (text) => {
    expect(field.safeParse(text).error?.issues[0]?.message).toBe("a request such as 'GET /path'");
  });
});

describe('requestString with rules', () => {
  const load = requestString({ methods: ['GET', 'DELETE'], hint: 'GET or DELETE' });
  const sized = requestString({ methods: ['GET'], placeholder: 'K', hint: 'a GET with {K}' });
  test.each([
    [load, 'DELETE /a/{id}', true],
    [load, 'POST /notes', false],
    [sized, 'GET /orders?limit={K}', true],
    [sized, 'GET /orders?limit=5', false],
    [sized, 'DELETE /orders/{K}', false],
  ])('%#: %j accepted: %j', (field, text, accepted) => {
    expect(field.safeParse(text).success).toBe(accepted);
  });
  test('a refusal says the caller’s hint, once', () => {
    expect(sized.safeParse('POST /x').error?.issues.map((issue) => issue.message)).toEqual(['a GET with {K}']);
  });
});

describe('parseRequestLine', () => {
  test.each([
    ['GET /inspections/{id}', {}, { method: 'GET', path: '/inspections/{id}' }],
    ['  DELETE /x  ', { methods: ['GET', 'DELETE'] as const }, { method: 'DELETE', path: '/x' }],
    ['GET   /orders?limit={K}', { placeholder: 'K' }, { method: 'GET', path: '/orders?limit={K}' }],
  ])('%j', (text, rules, line) => {
    expect(parseRequestLine(text, rules)).toEqual(line);
  });
  test.each([
    ['POST /x', { methods: ['GET'] as const }],
    ['GET /x', { placeholder: 'K' }],
  ])('%j against rules it breaks is refused with an example', (text, rules) => {
    expect(() => parseRequestLine(text, rules)).toThrow(
      /is not a request: write it as '<METHOD> \/path', e\.g\. 'GET \/inspections\/\{id\}'/,
    );
  });
});
