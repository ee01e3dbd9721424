// Run by test/faults/link-host.test.ts as its own process (`node --import tsx`), so that the
// process that started a link host can be SIGKILLed: it prints the host's pid and its
// proxies' ports as JSON, then waits to be killed.
import { startLinkHost } from '../../harness/faults/link-host.ts';

const upstreams = process.argv.slice(2).map((port) => ({ port: Number(port) }));
const host = await startLinkHost(upstreams);
process.stdout.write(`${JSON.stringify({ pid: host.pid, ports: host.proxies.map((p) => p.port) })}\n`);
setInterval(() => {}, 60_000);
