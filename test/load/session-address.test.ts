// A session's source address (identities by IP, issue 18): on Linux every address of 127.0.0.0/8
// is this machine's, so each client can come from its own, and the app sees it as the socket's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Session } from '../../harness/http/session.ts';

let server: http.Server;
let url: string;
beforeAll(async () => {
  server = http.createServer((request, response) => {
    response.setHeader('set-cookie', 'seen=1; Path=/');
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ from: request.socket.remoteAddress }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('a session with a local address sends from it; headers, cookies and the body come back as with fetch', async () => {
  const session = new Session(url, 2000, { localAddress: '127.0.0.7' });
  const answer = await session.send({ method: 'GET', path: '/' });
  expect(answer).toMatchObject({ status: 200, body: { from: '127.0.0.7' } });
  expect(answer.headers?.get('content-type')).toBe('application/json');
  expect(answer.headers?.getSetCookie()).toEqual(['seen=1; Path=/']);
  expect((await new Session(url, 2000).send({ method: 'GET', path: '/' })).body).toEqual({ from: '127.0.0.1' });
});
