// Text put into junit.xml and report.html is escaped; request strings are read the way
// people write them (`GET /inspections/{id}`) and anything else is refused.
import { describe, expect, test } from 'vitest';
import { escapeMarkup } from '../../harness/results/writers/escape.ts';
import { parseRequest } from '../../harness/http/session.ts';
import { request } from '../../suites/support/options.ts';

describe('escapeMarkup', () => {
  test.each([
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    ["a & b's", 'a &amp; b&apos;s'],
    ['&amp;', '&amp;amp;'],
    [42, '42'],
    ['plain', 'plain'],
  ])('%j → %j', (text, escaped) => {
    expect(escapeMarkup(text)).toBe(escaped);
  });
});

describe('parseRequest', () => {
  test.each([
    ['GET /inspections/{id}', { method: 'GET', path: '/inspections/{id}' }],
    ['  DELETE /x  ', { method: 'DELETE', path: '/x' }],
    ['GET /', { method: 'GET', path: '/' }],
    ['POST /notes?x=1', { method: 'POST', path: '/notes?x=1' }],
  ])('%j', (text, spec) => {
    expect(parseRequest(text)).toEqual(spec);
  });
  test('a body goes with the request', () => {
    expect(parseRequest('PUT /a/{id}', { status: '{status}' })).toEqual({
      method: 'PUT',
      path: '/a/{id}',
      body: { status: '{status}' },
    });
  });
  test('a request given as an object is taken as it is', () => {
    expect(parseRequest({ method: 'PATCH', path: '/p' })).toEqual({ method: 'PATCH', path: '/p' });
  });
  test.each(['get /x', 'FETCH /x', 'GET x', 'GET', '/x', 'GET /a b'])('%j is refused with an example', (text) => {
    expect(() => parseRequest(text)).toThrow(
      /is not a request: write it as '<METHOD> \/path', e\.g\. 'GET \/inspections\/\{id\}'/,
    );
  });
});

describe("a suite's request option", () => {
  const option = request('GET /health');
  test.each(['GET /x', 'POST /a/{id}', 'DELETE /'])('%j is accepted', (text) => {
    expect(option.parse(text)).toBe(text);
  });
  test('its default when left out', () => {
    expect(option.parse(undefined)).toBe('GET /health');
  });
  test.each(['FETCH /x', 'GET x', 'get /x'])('%j is refused', (text) => {
    expect(option.safeParse(text).success).toBe(false);
  });
});
