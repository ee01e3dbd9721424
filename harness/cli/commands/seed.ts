import { DATASET_DEFAULTS } from '../../../fixtures/defaults.ts';
import { PROFILE_NAMES } from '../../../fixtures/profiles/names.ts';
import { UsageError } from '../../errors.ts';
import { redact } from '../../redact.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { ownerAlive, readState } from '../state.ts';

export const SEED_HELP = `dbproof seed [--profile NAME | --dataset FILE] [--scale N] [--seed N] [--url URL [--replace DB]] [--json]

Generates a data set and loads it (COPY) into the running topology's \`app\` database,
or into the database of --url. The data is kept as a template database, so a second
seed with the same data set, scale and seed reuses it.

  --profile NAME   a built-in profile: ${PROFILE_NAMES.join(', ')} (default ${DATASET_DEFAULTS.profile})
  --dataset FILE   a .ts/.mts/.js/.mjs module whose default export is defineDataset({...})
  --scale N        scale factor, a number > 0 (default ${DATASET_DEFAULTS.scale}; inspections at 1 ≈ 1.6 million rows)
  --seed N         random seed, a whole number (default ${DATASET_DEFAULTS.seed}): same seed, same rows
  --url URL        seed the database this URL names instead (its role needs CREATEDB). A database
                   that does not exist is created; one that dbproof seeded before is replaced;
                   any other is refused unless --replace names it
  --replace DB     the database of --url may be replaced although dbproof did not create it
                   (its data is lost); needed too for any database on a host other than loopback
  --json           print one JSON object on stdout`;

function numberOption(
  name: string,
  raw: string | boolean | string[] | undefined,
  fallback: number,
  check: (n: number) => boolean,
  expected: string,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !check(value))
    throw new UsageError(`--${name} must be ${expected} (got '${raw}')`);
  return value;
}

interface Target {
  adminUrl: string;
  appUrl?: string;
  database: string;
  owner?: string;
  replicaAdminUrls: string[];
  /** The user's word (or dbproof's own topology) that `database` may be replaced though not marked as dbproof's. */
  replace: boolean;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/i;

function targetFrom(url: string | undefined, replace: string | undefined): Target {
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url is not a URL: ${redact(url)}`);
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol))
      throw new UsageError(`--url must be a postgres:// URL (got ${parsed.protocol}//…)`);
    // No default database: libpq's (the user's name) would make a typo replace a database nobody named.
    const database = decodeURIComponent(parsed.pathname.slice(1));
    if (!database)
      throw new UsageError(
        `--url names no database: add it to the URL's path, e.g. postgres://user:…@${parsed.host}/mydb`,
      );
    if (replace !== undefined && replace !== database)
      throw new UsageError(
        `--replace ${replace} does not match the database of --url (${database}); name the database that may be replaced`,
      );
    if (replace === undefined && !LOOPBACK.test(parsed.hostname)) {
      throw new UsageError(
        `--url points at ${parsed.hostname}, not this machine: dbproof seeds another host's database only when told, add --replace ${database} (its data is lost)`,
      );
    }
    return { adminUrl: url, database, replicaAdminUrls: [], replace: replace !== undefined };
  }
  if (replace !== undefined)
    throw new UsageError("--replace goes with --url (the running topology's app database is dbproof's to replace)");
  const state = readState();
  if (!state || !ownerAlive(state))
    throw new UsageError(
      'no topology is up here to seed; start one with `dbproof up --detach`, or pass --url postgres://…',
    );
  const replicaAdminUrls = state.topology.nodes
    .filter((n) => n.kind === 'postgres' && n.name !== 'primary')
    .map((n) => n.url);
  // A topology `dbproof up` started: every database on it is dbproof's.
  return {
    adminUrl: state.topology.admin,
    appUrl: state.topology.primary,
    database: 'app',
    owner: 'app',
    replicaAdminUrls,
    replace: true,
  };
}

export async function seed(argv: string[]): Promise<number> {
  const { options } = parseArgs('seed', argv, {
    profile: { type: 'string' },
    dataset: { type: 'string' },
    scale: { type: 'string' },
    seed: { type: 'string' },
    url: { type: 'string' },
    replace: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (options.help) {
    console.log(SEED_HELP);
    return 0;
  }
  if (options.profile && options.dataset) throw new UsageError('give --profile or --dataset, not both');
  const scale = numberOption(
    'scale',
    options.scale,
    DATASET_DEFAULTS.scale,
    (n) => Number.isFinite(n) && n > 0,
    'a number greater than 0',
  );
  const seedValue = numberOption(
    'seed',
    options.seed,
    DATASET_DEFAULTS.seed,
    (n) => Number.isInteger(n) && n >= 0 && n <= 2 ** 32 - 1,
    'a whole number from 0 to 4294967295',
  );
  const target = targetFrom(options.url as string | undefined, options.replace as string | undefined);
  // Loaded once the command line is known to be good: the profiles load faker, a usage error answers at once (issue 15).
  const [{ consoleProgress, silentProgress }, { profile }, { datasetFromFile }, { seedAppDatabase }] =
    await Promise.all([
      import('../../../fixtures/loader/progress.ts'),
      import('../../../fixtures/profiles/index.ts'),
      import('../../../fixtures/profiles/from-file.ts'),
      import('../../../fixtures/seed.ts'),
    ]);
  const dataset = options.dataset
    ? await datasetFromFile(String(options.dataset), '--dataset')
    : profile(String(options.profile ?? DATASET_DEFAULTS.profile));

  const snapshot = await seedAppDatabase(
    {
      adminUrl: target.adminUrl,
      appUrl: target.appUrl,
      owner: target.owner,
      replicaAdminUrls: target.replicaAdminUrls,
    },
    dataset,
    {
      scale,
      seed: seedValue,
      progress: options.json ? silentProgress : consoleProgress(),
      database: target.database,
      replace: target.replace,
      howToAllow: `pass --replace ${target.database} to replace it, or seed a database that does not exist yet (it is created)`,
    },
  );

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
    const tables = Object.entries(plan.rowCounts)
      .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
      .join(', ');
    const speed = loaded
      ? `${seconds.toFixed(1)} s, ${summary.rowsPerSecond!.toLocaleString('en-US')} rows/s`
      : 'reused the snapshot';
    console.log(
      `seeded ${dataset.name} (scale ${scale}, seed ${seedValue}) into ${target.database}: ${tables} — ${plan.totalRows.toLocaleString('en-US')} rows, ${speed}`,
    );
  }
  return 0;
}
