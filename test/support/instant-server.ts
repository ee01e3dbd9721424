// An HTTP server that answers at once (sub-millisecond): the accuracy tests freeze its
// whole process (SIGSTOP) to give it a known latency distribution.
import http from 'node:http';

const server = http.createServer((_request, response) =>
  response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
);
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as { port: number }).port}/`));
process.on('SIGTERM', () => process.exit(0));
