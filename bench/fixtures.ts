/**
 * `npm run bench -- fixtures`:
 * - loader throughput for `inspections` scale 1, next to raw `psql \copy` of the same
 *   rows from files, measured in the same run on the same topology;
 * - clone() of the scale-1 snapshot (median of 5), with 0 and 2 replicas;
 * - time to a seeded topology on a seed-cache hit (median of 3);
 * - peak RSS of this process while loading.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { startTopology } from '../harness/index.ts';
import { queryRows } from '../harness/pg/client.ts';
import { findPostgresBinaries } from '../harness/providers/native/binaries.ts';
import { copyChunks } from '../fixtures/dataset/copy-text.ts';
import { createTableSql } from '../fixtures/loader/ddl.ts';
import { databaseUrl } from '../harness/pg/client.ts';
import { generateRows, inspections, planDataset, seed, startSeededTopology } from '../fixtures/index.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function writeCopyFiles(dir: string): Promise<Record<string, string>> {
  const plan = planDataset(inspections, SCALE, 42);
  const files: Record<string, string> = {};
  for (const table of plan.dataset.order) {
    const file = path.join(dir, `${table}.copy`);
    const out = createWriteStream(file);
    for (const chunk of copyChunks(generateRows(plan, table))) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    files[table] = file;
  }
  return files;
}

/** Raw COPY: the same rows from files with psql's \copy, two tables at a time as the loader does. */
async function rawCopySeconds(adminUrl: string, files: Record<string, string>): Promise<number> {
  await queryRows(adminUrl, 'DROP DATABASE IF EXISTS bench_raw WITH (FORCE)');
  await queryRows(adminUrl, 'CREATE DATABASE bench_raw');
  const url = databaseUrl(adminUrl, 'bench_raw');
  for (const table of inspections.order) await queryRows(url, createTableSql(inspections, table));
  const psql = path.join(findPostgresBinaries().binDir, 'psql');
  const parsed = new URL(url);
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(parsed.password) };
  const target = ['-h', parsed.hostname, '-p', parsed.port, '-U', parsed.username, '-d', 'bench_raw', '-q'];
  const started = performance.now();
  const tables = [...inspections.order];
  const { execFile } = await import('node:child_process');
  const worker = async () => {
    for (let table = tables.shift(); table; table = tables.shift()) {
      await new Promise<void>((resolve, reject) =>
        execFile(psql, [...target, '-c', `\\copy ${table} FROM '${files[table]}'`], { env }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - started) / 1000;
  await queryRows(adminUrl, 'DROP DATABASE bench_raw WITH (FORCE)');
  return seconds;
}

async function cloneTimes(replicas: number): Promise<number[]> {
  const topology = await startTopology({ replicas, redis: false });
  try {
    const snapshot = await seed(topology, inspections, { scale: SCALE });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const clone = await snapshot.clone();
      times.push(performance.now() - started);
      await clone.drop();
    }
    return times;
  } finally {
    await topology.stop();
  }
}

export async function benchFixtures(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bench-'));
  const topology = await startTopology({ replicas: 0, redis: false });
  try {
    const files = await writeCopyFiles(dir);
    const fileBytes = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
    // Interleaved, twice each: the loader (into its own template) and the raw copy.
    const loaderRuns: { total: number; copy: number; rows: number }[] = [];
    const rawRuns: number[] = [];
    let peakRss = 0;
    for (let run = 0; run < 2; run++) {
      rawRuns.push(await rawCopySeconds(topology.adminUrl, files));
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
      const snapshot = await seed(topology, inspections, { scale: SCALE, seed: 42 + run });
      clearInterval(sampler);
      loaderRuns.push({
        total: snapshot.report.seconds,
        copy: snapshot.report.copySeconds,
        rows: snapshot.report.plan.totalRows,
      });
      await snapshot.drop();
    }
    const rows = loaderRuns[0]!.rows;
    const loaderCopy = median(loaderRuns.map((r) => r.copy));
    const loaderTotal = median(loaderRuns.map((r) => r.total));
    const raw = median(rawRuns);
    const rate = (seconds: number) => `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`;
    console.log(
      `fixtures: inspections scale ${SCALE}, ${rows.toLocaleString('en-US')} rows (${(fileBytes / 1e6).toFixed(0)} MB as COPY text)`,
    );
    console.log(`  loader, generate + COPY     ${loaderCopy.toFixed(2)} s  ${rate(loaderCopy)}`);
    console.log(`  raw psql \\copy from files   ${raw.toFixed(2)} s  ${rate(raw)}`);
    console.log(`  loader / raw throughput     ${((raw / loaderCopy) * 100).toFixed(0)} %   (target: at least 70 %)`);
    console.log(
      `  loader end to end           ${loaderTotal.toFixed(2)} s  (with keys, indexes, foreign keys, ANALYZE, checkpoint)`,
    );
    console.log(`  peak RSS while loading      ${(peakRss / 2 ** 20).toFixed(0)} MB   (target: under 300 MB)`);
  } finally {
    await topology.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  for (const replicas of [0, 2]) {
    const times = await cloneTimes(replicas);
    console.log(
      `  clone() with ${replicas} replicas        ${median(times).toFixed(0)} ms median  (runs: ${times.map((t) => t.toFixed(0)).join(', ')}; target: under 300 ms)`,
    );
  }

  await (await startSeededTopology({ replicas: 2, redis: true }, inspections, { scale: SCALE })).topology.stop(); // fills the cache
  const hits: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const { topology: seeded } = await startSeededTopology({ replicas: 2, redis: true }, inspections, { scale: SCALE });
    hits.push(performance.now() - started);
    if (!seeded.seedCache?.hit) console.log('  (warning: expected a seed-cache hit)');
    await seeded.stop();
  }
  console.log(
    `  seeded topology, cache hit  ${median(hits).toFixed(0)} ms median  (runs: ${hits.map((t) => t.toFixed(0)).join(', ')}; target: under 3000 ms)`,
  );
}
