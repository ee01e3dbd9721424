import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { InfrastructureError } from '../../errors.ts';

export interface PostgresBinaries {
  binDir: string;
  /** Major version, e.g. 15. Part of the initdb cache key. */
  major: number;
  /** Full version string, e.g. "15.19". */
  version: string;
}

export const POSTGRES_INSTALL_HINT =
  'install them with `apt-get install -y postgresql postgresql-contrib` or point DBPROOF_PG_BIN at the directory holding `postgres` and `initdb`';
export const REDIS_INSTALL_HINT =
  'install it with `apt-get install -y redis-server` or set DBPROOF_REDIS_SERVER to its path';

function hasServerBinaries(dir: string): boolean {
  return existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'));
}

function pgConfigBinDir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Debian and Ubuntu keep each major version in /usr/lib/postgresql/<major>/bin; take the newest. */
function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => path.join(root, major, 'bin'));
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

/**
 * Finds the Postgres server binaries: the explicit override (config, then
 * DBPROOF_PG_BIN), then `pg_config --bindir`, then /usr/lib/postgresql/<newest>/bin,
 * then PATH. An override that does not hold the binaries is an error, not a fallback:
 * silently using another version would measure something else than asked.
 */
export function findPostgresBinaries(override?: string): PostgresBinaries {
  const explicit = override ?? process.env.DBPROOF_PG_BIN;
  let binDir: string | undefined;
  if (explicit) {
    if (!hasServerBinaries(explicit)) {
      throw new InfrastructureError(
        `no Postgres server binaries (postgres, initdb) in ${explicit}; ${POSTGRES_INSTALL_HINT}`,
      );
    }
    binDir = explicit;
  } else {
    const candidates = [pgConfigBinDir(), ...debianBinDirs(), ...pathDirs()].filter((d): d is string => !!d);
    binDir = candidates.find(hasServerBinaries);
  }
  if (!binDir) throw new InfrastructureError(`Postgres server binaries not found; ${POSTGRES_INSTALL_HINT}`);
  const out = execFileSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /(\d+)(?:\.(\d+))?/.exec(out);
  if (!match)
    throw new InfrastructureError(`could not read the version of ${binDir}/postgres (it printed: ${out.trim()})`);
  return { binDir, major: Number(match[1]), version: match[0] };
}

/** Finds `redis-server`: override, then DBPROOF_REDIS_SERVER, then PATH, then /usr/bin and /usr/local/bin. */
export function findRedisServer(override?: string): string {
  const explicit = override ?? process.env.DBPROOF_REDIS_SERVER;
  if (explicit) {
    if (!existsSync(explicit))
      throw new InfrastructureError(`redis-server not found at ${explicit}; ${REDIS_INSTALL_HINT}`);
    return explicit;
  }
  const found = [...pathDirs(), '/usr/bin', '/usr/local/bin', '/usr/sbin']
    .map((dir) => path.join(dir, 'redis-server'))
    .find((file) => existsSync(file));
  if (!found) throw new InfrastructureError(`redis-server not found; ${REDIS_INSTALL_HINT}`);
  return found;
}

export const PGBACKREST_INSTALL_HINT =
  'install it with `apt-get install -y pgbackrest` (Debian, Ubuntu) or set DBPROOF_PGBACKREST to its path';

/** Finds `pgbackrest`: DBPROOF_PGBACKREST, then PATH, then /usr/bin. Throws with the install command when missing. */
export function findPgBackRest(): string {
  const explicit = process.env.DBPROOF_PGBACKREST;
  if (explicit) {
    if (!existsSync(explicit))
      throw new InfrastructureError(`pgBackRest not found at ${explicit}; ${PGBACKREST_INSTALL_HINT}`);
    return explicit;
  }
  const found = [...pathDirs(), '/usr/bin', '/usr/local/bin']
    .map((dir) => path.join(dir, 'pgbackrest'))
    .find((file) => existsSync(file));
  if (!found) throw new InfrastructureError(`pgBackRest is not installed; ${PGBACKREST_INSTALL_HINT}`);
  return found;
}
