// A session's request ends at its time-out whatever the server does: an answer that never
// starts, or one whose body stops half-way (fetch's own abort leaves a body read pending for
// ever, nodejs/node#56917), so a load engine waiting on its requests always ends.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Session } from '../../harness/http/session.ts';

let server: http.Server;
let url: string;
beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url === '/silent') return; // never answers
    // Headers and half a body, then nothing.
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    response.write('{"half":');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe.each([
  ['fetch', {}],
  ['node:http (a source address of its own)', { localAddress: '127.0.0.9' }],
])('through %s', (_, options) => {
  test('an answer that never starts is an error at the time-out', async () => {
    await expect(new Session(url, 300, options).send({ method: 'GET', path: '/silent' })).rejects.toThrow(
      /no answer in 300 ms|aborted/,
    );
  });

  test('a body that stops half-way is an error at the time-out, not a request pending for ever', async () => {
    await expect(new Session(url, 300, options).send({ method: 'GET', path: '/half' })).rejects.toThrow(
      /no answer in 300 ms|aborted/,
    );
  });
});
