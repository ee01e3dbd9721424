// An app whose every error answer echoes its database credentials, as careless apps do
// (`{"error": "could not connect to postgres://app:…@…"}`): the secrets tests check that
// none of it reaches dbproof's output or results. GET /health answers 200; every other
// request 500. With ECHO_APP_RECORD set, it writes the password it was given to that
// file, so that a test knows what to look for.
import { writeFileSync } from 'node:fs';
import http from 'node:http';

const databaseUrl = process.env.DATABASE_URL ?? '';
const { password, hostname, port } = new URL(databaseUrl);
if (process.env.ECHO_APP_RECORD) writeFileSync(process.env.ECHO_APP_RECORD, decodeURIComponent(password));

const server = http.createServer((request, response) => {
  if (request.url === '/health') return void response.writeHead(200).end('ok');
  const body = {
    error: `could not connect to ${databaseUrl}`,
    conninfo: `host=${hostname} port=${port} user=app password=${decodeURIComponent(password)}`,
    env: { PGPASSWORD: decodeURIComponent(password) },
  };
  response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
