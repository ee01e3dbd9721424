/**
 * `npm run bench -- rehearsal`: what the migration rehearsal's sampling costs and what it sees.
 * - cost: the sampler's queries per second, and the primary's CPU with and without it over
 *   the same idle seconds (alternated, median of 3 each), as a share of one core;
 * - resolution: a statement holding ACCESS EXCLUSIVE for 50 ms while writers (the app's role)
 *   insert every 10 ms, 20 times: how often the sampler saw a write waiting behind it, and
 *   the longest wait it measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startTopology } from '../harness/index.ts';
import { MIGRATION_APP, sampleActivity } from '../suites/migration/activity-sampler.ts';
import { blockedApp } from '../suites/migration/lock-waits.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds used so far by a postmaster and every process it started. */
function cpuOf(postmaster: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (Number(entry) === postmaster || ppid === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICKS;
}

export async function benchRehearsal(): Promise<void> {
  const topology = await startTopology({ replicas: 1, redis: false });
  try {
    const admin = new URL(topology.primary.adminUrl);
    admin.pathname = '/app';
    const adminUrl = admin.toString();
    const setup = new pg.Client(adminUrl);
    await setup.connect();
    await setup.query('CREATE TABLE IF NOT EXISTS bench_notes (id bigserial PRIMARY KEY, body text)');
    await setup.query('GRANT ALL ON bench_notes, bench_notes_id_seq TO app');
    // The postmaster is the parent of any backend.
    const backend = (await setup.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    await setup.end();
    const t0 = performance.now();
    const now = () => performance.now() - t0;

    // Cost: the same 5 s idle, with and without the sampler, alternated.
    const cpu = { without: [] as number[], with: [] as number[] };
    let rate = 0;
    for (let i = 0; i < 3; i++) {
      let before = cpuOf(postmaster);
      await sleep(5000);
      cpu.without.push(cpuOf(postmaster) - before);
      before = cpuOf(postmaster);
      const sampler = sampleActivity(adminUrl, 'app', now);
      await sleep(5000);
      const { samples } = await sampler.stop();
      cpu.with.push(cpuOf(postmaster) - before);
      rate = samples.length / 5;
    }
    console.log(
      'migration rehearsal: the sampler (pg_stat_activity + pg_blocking_pids, pg_locks while a migration runs, replication lag)',
    );
    console.log(
      `  samples per second          ${rate.toFixed(0)} (every ~${(1000 / rate).toFixed(0)} ms), 2 queries each (3 while a migration session is active)`,
    );
    console.log(
      `  primary CPU, idle 5 s       ${median(cpu.without).toFixed(2)} s without, ${median(cpu.with).toFixed(2)} s with the sampler: ${(((median(cpu.with) - median(cpu.without)) / 5) * 100).toFixed(1)} % of one core`,
    );

    // Resolution: a 50 ms ACCESS EXCLUSIVE under writes every 10 ms.
    const writer = new pg.Client(topology.primary.url.replace(/\/[^/?]*(\?|$)/, '/app$1'));
    await writer.connect();
    let writing = true;
    const writes = (async () => {
      while (writing) {
        await writer.query("INSERT INTO bench_notes (body) VALUES ('x')");
        await sleep(10);
      }
    })();
    const migration = new pg.Client({ connectionString: adminUrl, application_name: MIGRATION_APP });
    await migration.connect();
    const pid = (await migration.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let seen = 0;
    const longest: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sampler = sampleActivity(adminUrl, 'app', now);
      await sleep(60);
      const start = now();
      await migration.query('BEGIN');
      await migration.query('LOCK TABLE bench_notes IN ACCESS EXCLUSIVE MODE');
      await migration.query('SELECT pg_sleep(0.05)');
      await migration.query('COMMIT');
      const end = now();
      await sleep(40);
      const { samples } = await sampler.stop();
      const blocked = blockedApp(samples, [{ index: 0, start, end }], new Set([pid]), 'app').get(0)!;
      if (blocked.sessions > 0) seen++;
      longest.push(blocked.maxMs);
    }
    writing = false;
    await writes;
    await writer.end();
    await migration.end();
    console.log(
      `  a 50 ms lock under writes every 10 ms: a blocked write seen in ${seen} of 20, longest wait measured median ${median(longest)} ms (max ${Math.max(...longest)} ms)`,
    );
  } finally {
    await topology.stop();
  }
}
