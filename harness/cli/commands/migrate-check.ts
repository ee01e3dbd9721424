import { UsageError } from '../../errors.ts';
import type { ProviderName } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { CONFIG_OPTIONS, configFileOption } from '../config-option.ts';
import { runSuitesAndPrint } from './test.ts';

export const MIGRATE_CHECK_HELP = `dbproof migrate-check [--config FILE | --demo] [--migrations DIR | --command 'CMD'] [--provider native|containers|compose] [--json]

Rehearses your migrations: starts the topology, loads the data set, starts the app, and runs
the migration-rehearsal suite. The app takes its traffic (the suite's write at its rate) for a
baseline period, then the migrations run statement by statement (the .sql files of DIR in name
order), while dbproof samples pg_stat_activity and pg_locks every ~20 ms. Per statement: the
locks it took, how long the app waited behind it, whether it rewrote or scanned a big table
under a lock that blocks writes, whether it had a lock_timeout; for the whole: it completes,
no index is left invalid, the app's errors and p99 meanwhile, the replicas' lag.

  --migrations DIR   the folder of .sql migrations (default: the config's
                     suites['migration-rehearsal'].migrations; relative to the working directory)
  --command 'CMD'    or your own migration command (npm run migrate, prisma migrate deploy,
                     alembic upgrade head …), run in the config's folder with the primary in
                     DATABASE_URL and PGAPPNAME=dbproof-migration; its statements are sampled
  --json             print one JSON object: { runId, resultsDir, pass, suites: [...] }

The suite's other options (the write, its rate, a long-held read, prepare and cleanup
statements, budgets) come from the config's suites['migration-rehearsal']. It runs only on the
topology dbproof starts: your own databases are never migrated.
Exit codes: 0 every budget holds · 1 a budget is broken (a migration that fails in SQL is one)
· 2 bad input or infrastructure`;

export async function migrateCheck(argv: string[]): Promise<number> {
  const { options } = parseArgs('migrate-check', argv, {
    ...CONFIG_OPTIONS,
    migrations: { type: 'string' },
    command: { type: 'string' },
    json: { type: 'boolean' },
    provider: { type: 'string' },
  });
  if (options.help) {
    console.log(MIGRATE_CHECK_HELP);
    return 0;
  }
  const migrations = options.migrations as string | undefined;
  const command = options.command as string | undefined;
  if (migrations !== undefined && command !== undefined)
    throw new UsageError('give --migrations DIR or --command CMD, not both');
  if (migrations !== undefined && migrations.trim() === '')
    throw new UsageError('--migrations needs a folder of .sql migrations, e.g. --migrations db/migrations');
  if (command !== undefined && command.trim() === '')
    throw new UsageError("--command needs your migration command, e.g. --command 'npm run migrate'");
  const path = await import('node:path');
  // The flag replaces the config's way of migrating, whichever it was.
  const override = migrations
    ? { migrations: path.resolve(migrations), command: undefined }
    : command
      ? { command, migrations: undefined }
      : undefined;
  return runSuitesAndPrint(
    {
      config: configFileOption(options),
      provider: options.provider as ProviderName | undefined,
      suites: ['migration-rehearsal'],
      scenarios: false,
      // A folder on the command line is the shell's, relative to where the command runs.
      ...(override ? { suiteOptions: { 'migration-rehearsal': override } } : {}),
    },
    Boolean(options.json),
  );
}
