/**
 * `npm run bench -- proxy`: what a fault proxy adds to each query, and whether a busy dbproof
 * adds to it (issue 13).
 *
 * `SELECT 1` over one pg connection, 500 a second (an open model: sent on time whether the
 * last one has come back or not), from a process of its own (the app), to a Postgres
 * (`startTopology({ replicas: 0, redis: false })`): directly, through a proxy in this process
 * (`startFaultProxy`, where a run's proxies were before the link host), and through a link
 * host (`startLinkHost`, a process of its own: what a run uses). Each with this process
 * idle, and with its event loop kept busy (a 5 ms synchronous loop every 10 ms: a busy
 * dbproof writing results or driving a suite's load), and with the same loop in an unrelated
 * process (the machine as busy, nobody's event loop blocked). Per query, p50, p90 and p99 in µs; the
 * link's added latency is the path's percentile minus the direct path's in the same round.
 * Then the link host's start time.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startLinkHost } from '../harness/faults/link-host.ts';
import { startFaultProxy } from '../harness/faults/proxy.ts';
import { startTopology } from '../harness/providers/index.ts';

const CLIENT = fileURLToPath(new URL('./proxy-client.ts', import.meta.url));
const QUERIES = 2000;
const WARMUP = 300;
/** One query every 2 ms (500/s), sent whether the last one has come back or not. */
const EVERY_MS = 2;
const ROUNDS = 5;
const PERCENTILES = [50, 90, 99] as const;
/** µs at each percentile. */
type Figures = Record<(typeof PERCENTILES)[number], number>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Keeps this process's event loop busy: `busyMs` of synchronous work every `everyMs`. */
function busyLoop(busyMs: number, everyMs: number): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until) {
      // busy
    }
  }, everyMs);
  return () => clearInterval(timer);
}

/**
 * The same work in a process of its own, unrelated to any path: what the machine's CPU being
 * that busy costs, apart from whose event loop it blocks (on 2 cores it is felt).
 */
async function busyElsewhere(busyMs: number, everyMs: number): Promise<() => Promise<void>> {
  const hog = spawn(
    process.execPath,
    [
      '-e',
      `setInterval(() => { const until = performance.now() + ${busyMs}; while (performance.now() < until); }, ${everyMs}); console.log('on');`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => hog.stdout!.once('data', resolve));
  return async () => {
    hog.kill('SIGKILL');
    await new Promise((resolve) => hog.once('exit', resolve));
  };
}

export async function benchProxy(): Promise<void> {
  const loadBefore = os.loadavg()[0]!;
  const topology = await startTopology({ replicas: 0, redis: false });
  const client = spawn(process.execPath, ['--import', 'tsx', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
  const measure = async (url: string) => {
    client.stdin!.write(
      `${JSON.stringify({ url, queries: QUERIES, warmup: WARMUP, everyMs: EVERY_MS, percentiles: PERCENTILES })}\n`,
    );
    const { value } = await answers.next();
    return JSON.parse(value as string) as Figures;
  };
  const inProcess = await startFaultProxy({ port: topology.primary.port });
  const host = await startLinkHost([{ port: topology.primary.port }]);
  const via = (port: number) => Object.assign(new URL(topology.primary.url), { port: String(port) }).toString();
  const paths = {
    direct: topology.primary.url,
    'in-process proxy': via(inProcess.port),
    'link host': via(host.proxies[0]!.port),
  };
  type Path = keyof typeof paths;
  const conditions = ['idle', 'busy', 'other'] as const;
  const figures = new Map<string, Figures[]>();
  const starts: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const condition of conditions) {
        for (const path of Object.keys(paths) as Path[]) {
          const stop =
            condition === 'busy' ? busyLoop(5, 10) : condition === 'other' ? await busyElsewhere(5, 10) : () => {};
          try {
            const key = `${condition}|${path}`;
            figures.set(key, [...(figures.get(key) ?? []), await measure(paths[path])]);
          } finally {
            await stop();
          }
        }
      }
    }
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const another = await startLinkHost([{ port: topology.primary.port }]);
      starts.push(performance.now() - started);
      await another.close();
    }
  } finally {
    client.stdin!.end();
    await inProcess.close();
    await host.close();
    await topology.stop();
  }

  const cell = (x: number) => x.toFixed(0).padStart(7);
  const columns = (f: Figures) => PERCENTILES.map((p) => cell(f[p])).join('');
  const medianOf = (fs: Figures[]) =>
    Object.fromEntries(PERCENTILES.map((p) => [p, median(fs.map((f) => f[p]))])) as Figures;
  console.log(
    `proxy: SELECT 1 over one pg connection from a process of its own, one every ${EVERY_MS} ms (open model), ${QUERIES} queries (after ${WARMUP}) per figure, ${ROUNDS} rounds (medians of the rounds); busy = a 5 ms synchronous loop every 10 ms in dbproof's process; other = the same loop in an unrelated process (the CPU it takes, on nobody's path)`,
  );
  console.log("  µs; the direct path: its latency; a proxy: what it adds to the direct path's in the same round");
  console.log(
    `  ${'dbproof'.padEnd(7)} ${'path'.padEnd(17)} ${PERCENTILES.map((p) => `p${p}`.padStart(7)).join('')}   each round (${PERCENTILES.map((p) => `p${p}`).join('/')})`,
  );
  for (const condition of conditions) {
    const direct = figures.get(`${condition}|direct`)!;
    for (const path of Object.keys(paths) as Path[]) {
      const runs = figures.get(`${condition}|${path}`)!;
      const shown =
        path === 'direct'
          ? runs
          : runs.map((r, i) => Object.fromEntries(PERCENTILES.map((p) => [p, r[p] - direct[i]![p]])) as Figures);
      const rounds = shown.map((f) => PERCENTILES.map((p) => f[p].toFixed(0)).join('/')).join(', ');
      console.log(`  ${condition.padEnd(7)} ${path.padEnd(17)} ${columns(medianOf(shown))}   ${rounds}`);
    }
  }
  console.log(
    `  machine: ${os.cpus().length} CPUs, load average (1 min) ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after`,
  );
  console.log(
    `  link host start (fork to every proxy listening), 10 starts: median ${median(starts).toFixed(0)} ms, min ${Math.min(...starts).toFixed(0)} ms, max ${Math.max(...starts).toFixed(0)} ms`,
  );
}
