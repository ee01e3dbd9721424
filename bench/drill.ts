/**
 * `npm run bench -- drill`: the disaster drill (`dbproof drill --demo`: the reference app on
 * the demo's topology) at data set scales 0.1 and 1 (BENCH_DRILL_SCALES), on each provider
 * (BENCH_DRILL_PROVIDERS: native, containers; containers with the local images where they
 * exist), with each backup tool (pgBackRest runs inside the containers there): the recovery time (restore start → the app's first acknowledged write on the
 * restored node) and its restore part, the recovery point and the writes it lost, whether
 * the point-in-time restore was exact, the backup's time, the drill's own duration (from
 * archiving on to the last verdict) and the whole command's (topology, seed and app too).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/dbproof.js', import.meta.url));
const SCALES = (process.env.BENCH_DRILL_SCALES ?? '0.1,1').split(',').map(Number);
const TOOLS = (process.env.BENCH_DRILL_TOOLS ?? 'pg_basebackup,pgbackrest').split(',');
const PROVIDERS = (process.env.BENCH_DRILL_PROVIDERS ?? 'native,containers').split(',');

/** Where no registry answers, the images scripts/build-local-images.sh built. */
function imagesEnv(): NodeJS.ProcessEnv {
  const has = (tag: string) => spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0;
  return {
    ...process.env,
    ...(!process.env.DBPROOF_PG_IMAGE && has('dbproof-local/postgres:15')
      ? { DBPROOF_PG_IMAGE: 'dbproof-local/postgres:15' }
      : {}),
    ...(!process.env.DBPROOF_REDIS_IMAGE && has('dbproof-local/redis:7')
      ? { DBPROOF_REDIS_IMAGE: 'dbproof-local/redis:7' }
      : {}),
  };
}

const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

export async function benchDrill(): Promise<void> {
  console.log('drill: dbproof drill --demo (reference app, primary + 2 synchronous replicas + Redis), writers 20 s');
  console.log(
    `  ${['scale', 'provider', 'tool', 'backup', 'restore', 'RTO', 'RPO', 'missing/acked', 'PITR', 'drill', 'command'].map((h) => h.padEnd(14)).join('')}`,
  );
  const env = imagesEnv();
  for (const scale of SCALES) {
    for (const provider of PROVIDERS) {
      for (const tool of TOOLS) {
        const head = `  ${String(scale).padEnd(14)}${provider.padEnd(14)}${tool.padEnd(14)}`;
        const started = performance.now();
        const run = spawnSync(
          process.execPath,
          [BIN, 'drill', '--demo', '--json', '--scale', String(scale), '--provider', provider, '--tool', tool],
          { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env },
        );
        const commandMs = performance.now() - started;
        let m: Record<string, number | null>;
        try {
          m = (JSON.parse(run.stdout) as { drill: { measurements: Record<string, number | null> } }).drill.measurements;
        } catch {
          // The error's own line, not the stack trace below it nor Node's version after it.
          const why = run.stderr
            .split('\n')
            .filter((line) => line.trim() && !/^\s+at |^Node\.js v/.test(line))
            .pop();
          const log = path.join(os.tmpdir(), `dbproof-bench-drill-${scale}-${provider}-${tool}.log`);
          writeFileSync(log, run.stderr);
          console.log(`${head}failed (exit ${run.status}): ${why} (stderr in ${log})`);
          continue;
        }
        const row = [
          String(scale),
          provider,
          tool,
          s(m.backupMs),
          s(m.restoreMs),
          s(m.rtoMs),
          s(m.rpoMs),
          `${m.missingWrites ?? '—'}/${m.acknowledgedWrites ?? '—'}`,
          m.pitrMismatches === 0 ? 'exact' : String(m.pitrMismatches ?? 'failed'),
          s(m.drillMs),
          s(commandMs),
        ];
        const seeded = /seeding (.*)/.exec(run.stderr)?.[1] ?? '';
        console.log(
          `  ${row.map((c) => c.padEnd(14)).join('')}${run.status === 0 ? '' : `(exit ${run.status}) `}${tool === TOOLS[0] ? seeded : ''}`,
        );
      }
    }
  }
}
