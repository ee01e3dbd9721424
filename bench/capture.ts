/**
 * `npm run bench -- capture`:
 * - in-process capture overhead: 10,000 simple queries over one connection, plain vs
 *   inside captureQueries(), each in a fresh process, alternated, median of 5 each;
 * - black-box attribution cost per request: the two pg_stat_statements snapshots per node.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTopology } from '../harness/index.ts';
import { StatementWatcher } from '../harness/capture/black-box.ts';

const WORKER = fileURLToPath(new URL('./capture-worker.ts', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchCapture(): Promise<void> {
  const topology = await startTopology({ replicas: 2, redis: false });
  try {
    const runs = { plain: [] as number[], context: [] as number[], captured: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const variant of ['plain', 'context', 'captured'] as const) {
        runs[variant].push(
          Number(
            execFileSync(process.execPath, ['--import', 'tsx', WORKER, topology.primary.url, variant], {
              encoding: 'utf8',
            }).trim(),
          ),
        );
      }
    }
    const plain = median(runs.plain);
    const captured = median(runs.captured);
    const context = median(runs.context);
    console.log('capture: 10,000 × SELECT $1 over one connection, median of 5 fresh processes each');
    console.log(
      `  plain node-postgres        ${plain.toFixed(0)} ms   (runs: ${runs.plain.map((r) => r.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  AsyncLocalStorage only     ${context.toFixed(0)} ms   (runs: ${runs.context.map((r) => r.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  inside captureQueries()    ${captured.toFixed(0)} ms   (runs: ${runs.captured.map((r) => r.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  overhead                   ${(((captured - plain) / plain) * 100).toFixed(1)} %   (target: at most 5 %); of which the async context ${(((context - plain) / plain) * 100).toFixed(1)} %, recording ${(((captured - context) / plain) * 100).toFixed(1)} %`,
    );

    const nodes = [topology.primary, ...topology.replicas].map((n) => ({ name: n.name, adminUrl: n.adminUrl }));
    const costs: number[] = [];
    const watcher = await StatementWatcher.open(nodes, 'app');
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await watcher.capture(async () => {});
      costs.push(performance.now() - started);
    }
    await watcher.close();
    console.log(
      `  black-box attribution      ${median(costs).toFixed(1)} ms per request with 3 nodes watched (median of 30)`,
    );
  } finally {
    await topology.stop();
  }
}
