import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dataset } from '../../../fixtures/dataset/types.ts';
import { consoleProgress, silentProgress } from '../../../fixtures/loader/progress.ts';
import { profile, profiles } from '../../../fixtures/profiles/index.ts';
import { replaceDatabase, seed as seedDataset } from '../../../fixtures/seed.ts';
import { waitForReplayed } from '../../topology/replication.ts';
import { UsageError } from '../../errors.ts';
import { redact } from '../../redact.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { ownerAlive, readState } from '../state.ts';

export const SEED_HELP = `dbproof seed [--profile NAME | --dataset FILE] [--scale N] [--seed N] [--url URL] [--json]

Generates a data set and loads it (COPY) into the running topology's \`app\` database,
or into the database of --url. The data is kept as a template database, so a second
seed with the same data set, scale and seed reuses it.

  --profile NAME   a built-in profile: ${Object.keys(profiles).join(', ')} (default inspections)
  --dataset FILE   a module whose default export is defineDataset({...})
  --scale N        scale factor, a number > 0 (default 1; inspections at 1 ≈ 1.6 million rows)
  --seed N         random seed, a whole number (default 42): same seed, same rows
  --url URL        seed this database instead of the running topology's (its role needs CREATEDB
                   and must own the database: the database is replaced)
  --json           print one JSON object on stdout`;

function numberOption(name: string, raw: string | boolean | string[] | undefined, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !check(value)) throw new UsageError(`--${name} must be ${expected} (got '${raw}')`);
  return value;
}

async function datasetFromFile(file: string): Promise<Dataset> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new UsageError(`--dataset: no such file ${resolved}`);
  const module = (await import(pathToFileURL(resolved).href)) as { default?: Dataset; dataset?: Dataset };
  const dataset = module.default ?? module.dataset;
  if (!dataset || !Array.isArray(dataset.order)) throw new UsageError(`--dataset ${file}: export default defineDataset({...}) (from dbproof/fixtures)`);
  return dataset;
}

interface Target {
  adminUrl: string;
  appUrl?: string;
  database: string;
  owner?: string;
  replicaAdminUrls: string[];
}

function targetFrom(url: string | undefined): Target {
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url is not a URL: ${redact(url)}`);
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new UsageError(`--url must be a postgres:// URL (got ${parsed.protocol}//…)`);
    const database = decodeURIComponent(parsed.pathname.slice(1)) || parsed.username;
    return { adminUrl: url, database, replicaAdminUrls: [] };
  }
  const state = readState();
  if (!state || !ownerAlive(state)) throw new UsageError('no topology is up here to seed; start one with `dbproof up --detach`, or pass --url postgres://…');
  const replicaAdminUrls = state.topology.nodes.filter((n) => n.kind === 'postgres' && n.name !== 'primary').map((n) => n.url);
  return { adminUrl: state.topology.admin, appUrl: state.topology.primary, database: 'app', owner: 'app', replicaAdminUrls };
}

export async function seed(argv: string[]): Promise<number> {
  const { options } = parseArgs('seed', argv, {
    profile: { type: 'string' },
    dataset: { type: 'string' },
    scale: { type: 'string' },
    seed: { type: 'string' },
    url: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (options.help) {
    console.log(SEED_HELP);
    return 0;
  }
  if (options.profile && options.dataset) throw new UsageError('give --profile or --dataset, not both');
  const scale = numberOption('scale', options.scale, 1, (n) => Number.isFinite(n) && n > 0, 'a number greater than 0');
  const seedValue = numberOption('seed', options.seed, 42, (n) => Number.isInteger(n) && n >= 0 && n <= 2 ** 32 - 1, 'a whole number from 0 to 4294967295');
  const dataset = options.dataset ? await datasetFromFile(String(options.dataset)) : profile(String(options.profile ?? 'inspections'));
  const target = targetFrom(options.url as string | undefined);

  const snapshot = await seedDataset({ adminUrl: target.adminUrl, appUrl: target.appUrl, owner: target.owner, replicaAdminUrls: target.replicaAdminUrls }, dataset, {
    scale,
    seed: seedValue,
    progress: options.json ? silentProgress : consoleProgress(),
  });
  await replaceDatabase(snapshot, target.adminUrl, target.database, target.owner);
  await Promise.all(target.replicaAdminUrls.map((replica, i) => waitForReplayed(target.adminUrl, replica, `replica${i + 1}`, 120_000)));

  const { plan, seconds, loaded } = snapshot.report;
  const summary = {
    dataset: dataset.name,
    scale,
    seed: seedValue,
    database: target.database,
    snapshot: snapshot.name,
    reused: !loaded,
    rows: plan.rowCounts,
    totalRows: plan.totalRows,
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: loaded ? Math.round(plan.totalRows / seconds) : null,
  };
  if (options.json) printJson(summary);
  else {
    const tables = Object.entries(plan.rowCounts).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ');
    const speed = loaded ? `${seconds.toFixed(1)} s, ${summary.rowsPerSecond!.toLocaleString('en-US')} rows/s` : 'reused the snapshot';
    console.log(`seeded ${dataset.name} (scale ${scale}, seed ${seedValue}) into ${target.database}: ${tables} — ${plan.totalRows.toLocaleString('en-US')} rows, ${speed}`);
  }
  return 0;
}
