import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunAs } from './os-user.ts';

export const STANZA = 'dbproof';

/** pgBackRest's files for one run: its configuration, repository, logs and locks, all inside the run directory. */
export interface PgBackRestSetup {
  binary: string;
  config: string;
  /** `--config=… --stanza=…`, before every command. */
  base: string[];
}

function makeOwned(dir: string, runAs: RunAs | undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
}

/**
 * Writes the configuration of a repository in `dir` for the primary at `pgPath`, reached over
 * the run's Unix socket as dbproof's superuser (peer authentication: no password anywhere).
 */
export function setUpPgBackRest(options: {
  binary: string;
  dir: string;
  pgPath: string;
  socketDir: string;
  port: number;
  runAs: RunAs | undefined;
}): PgBackRestSetup {
  const { dir, runAs } = options;
  makeOwned(dir, runAs);
  for (const sub of ['repo', 'log', 'lock', 'spool']) makeOwned(path.join(dir, sub), runAs);
  const config = path.join(dir, 'pgbackrest.conf');
  writeFileSync(config, pgBackRestConfigText(options), { mode: 0o600 });
  if (runAs) chownSync(config, runAs.uid, runAs.gid);
  return { binary: options.binary, config, base: [`--config=${config}`, `--stanza=${STANZA}`] };
}

/**
 * pgBackRest's configuration for one drill: the repository, logs, locks and spool under `dir`
 * (as the tool sees it: a host path natively, a mounted one in a container), the primary at
 * `pgPath` reached over the Unix socket as dbproof's superuser (peer authentication).
 */
export function pgBackRestConfigText(options: {
  dir: string;
  pgPath: string;
  socketDir: string;
  port: number;
}): string {
  const { dir } = options;
  return [
    '# written by dbproof for one drill; removed with the run',
    '[global]',
    `repo1-path=${path.posix.join(dir, 'repo')}`,
    `log-path=${path.posix.join(dir, 'log')}`,
    `lock-path=${path.posix.join(dir, 'lock')}`,
    `spool-path=${path.posix.join(dir, 'spool')}`,
    'log-level-console=warn',
    'log-level-stderr=warn',
    'log-level-file=info',
    'start-fast=y',
    'compress-type=lz4',
    'archive-timeout=60',
    // One drill, one full backup: nothing to expire (and no warning that retention is unset).
    'repo1-retention-full=1',
    '',
    `[${STANZA}]`,
    `pg1-path=${options.pgPath}`,
    `pg1-socket-path=${options.socketDir}`,
    `pg1-port=${options.port}`,
    'pg1-user=dbproof',
    '',
  ].join('\n');
}

/** A shell word for archive_command / restore_command (paths under the run directory have no quote in them). */
const quoted = (word: string) => `'${word}'`;

export const pgBackRestArchivePush = (setup: PgBackRestSetup): string =>
  [setup.binary, ...setup.base, 'archive-push', '%p'].map((w) => (w === '%p' ? w : quoted(w))).join(' ');

/** pgBackRest resolves the relative `%p` against `pg1-path`: the restored node's directory, not the lost primary's. */
export const pgBackRestArchiveGet = (setup: PgBackRestSetup, pgPath: string): string =>
  [setup.binary, ...setup.base, `--pg1-path=${pgPath}`, 'archive-get', '%f', '"%p"']
    .map((w) => (w.includes('%') ? w : quoted(w)))
    .join(' ');
