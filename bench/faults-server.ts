// A minimal app for `npm run bench -- faults`: answers 200 at once until POST /fail,
// then 503 at once until POST /heal. GET /first-failure says when (epoch ms, sub-ms
// precision) it finished sending its first 503 since the last /fail: the ground truth.
import http from 'node:http';

const nowEpoch = () => performance.timeOrigin + performance.now();
let failing = false;
let firstFailure: number | null = null;
const server = http.createServer((request, response) => {
  if (request.method === 'POST') {
    failing = request.url === '/fail';
    firstFailure = null;
    response.writeHead(204).end();
    return;
  }
  if (request.url === '/first-failure') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ at: firstFailure }));
    return;
  }
  if (!failing) {
    response.writeHead(200).end();
    return;
  }
  response.writeHead(503).end(() => (firstFailure ??= nowEpoch()));
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
process.on('SIGTERM', () => process.exit(0));
