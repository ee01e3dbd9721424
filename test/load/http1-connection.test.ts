// The open model's HTTP/1.1 client: one request at a time on a keep-alive socket, the whole
// answer read (content-length or chunked), a socket the server closes opened again, and a
// request aborted when its time runs out.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Http1Connection } from '../../load/engines/http1-connection.ts';

let server: http.Server;
let port: number;
const sockets = new Set<unknown>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    if (req.url === '/chunked') {
      res.writeHead(200);
      res.write('a'.repeat(10_000));
      setTimeout(() => res.end('b'), 5);
    } else if (req.url === '/close') res.writeHead(503, { connection: 'close' }).end('bye');
    else if (req.url === '/never') {
      // no answer
    } else res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const ask = (connection: Http1Connection, path: string) =>
  new Promise<{ status: number; error?: Error }>((resolve) =>
    connection.request('GET', path, (status, error) => resolve({ status, error })),
  );

test('answers in turn on one socket: a chunked body read to its end, a closed socket opened again', async () => {
  const connection = new Http1Connection('127.0.0.1', port);
  sockets.clear();
  expect(await ask(connection, '/')).toEqual({ status: 204 });
  expect(await ask(connection, '/chunked')).toEqual({ status: 200 });
  expect(await ask(connection, '/')).toEqual({ status: 204 });
  expect(sockets.size).toBe(1);
  expect(await ask(connection, '/close')).toEqual({ status: 503 });
  expect(await ask(connection, '/')).toEqual({ status: 204 });
  expect(sockets.size).toBe(2);
  connection.abort();
});

test('an aborted request fails with the reason given, and the connection serves the next one', async () => {
  const connection = new Http1Connection('127.0.0.1', port);
  const waiting = ask(connection, '/never');
  setTimeout(() => connection.abort('timed out'), 50);
  const { status, error } = await waiting;
  expect(status).toBe(0);
  expect(error?.message).toBe('timed out');
  expect(await ask(connection, '/')).toEqual({ status: 204 });
  connection.abort();
});

test('a server that is not there: the request fails with the connection error', async () => {
  const connection = new Http1Connection('127.0.0.1', 1);
  const { status, error } = await ask(connection, '/');
  expect(status).toBe(0);
  expect(error?.message).toMatch(/ECONNREFUSED/);
});

test('a keep-alive socket the server closed while idle is opened again, and the request answered', async () => {
  const brief = http.createServer((_req, res) => res.writeHead(204).end());
  brief.keepAliveTimeout = 30;
  await new Promise<void>((resolve) => brief.listen(0, '127.0.0.1', resolve));
  const connection = new Http1Connection('127.0.0.1', (brief.address() as AddressInfo).port);
  try {
    for (let i = 0; i < 5; i++) {
      expect(await ask(connection, '/')).toEqual({ status: 204 });
      await new Promise((resolve) => setTimeout(resolve, 30 + i * 5)); // around the server's idle time-out
    }
  } finally {
    connection.abort();
    brief.closeAllConnections();
    await new Promise<void>((resolve) => brief.close(() => resolve()));
  }
});

test('an answer whose body runs until the server closes the socket is an answer', async () => {
  const raw = net.createServer((socket) =>
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length, ends at the close')),
  );
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  const connection = new Http1Connection('127.0.0.1', (raw.address() as AddressInfo).port);
  try {
    expect(await ask(connection, '/')).toEqual({ status: 200 });
    expect(await ask(connection, '/')).toEqual({ status: 200 });
  } finally {
    connection.abort();
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  }
});
