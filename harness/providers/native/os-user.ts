import { readFileSync } from 'node:fs';
import os from 'node:os';
import { InfrastructureError } from '../../errors.ts';

/** The OS identity Postgres processes run as. */
export interface RunAs {
  uid: number;
  gid: number;
  username: string;
}

export const CREATE_POSTGRES_USER_HINT =
  'create it with `useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres` (installing the postgresql package also creates it)';

function lookupUser(name: string): RunAs | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [username, , uid, gid] = line.split(':');
    if (username === name && uid && gid) return { username, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * Postgres refuses to run as root. As root, every Postgres process runs as the
 * `postgres` system user; dbproof creates no user by itself (a harness that adds
 * system users behind your back is not one you can trust in CI).
 * Returns undefined when no switch is needed (not root).
 */
export function postgresRunAs(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const user = lookupUser('postgres');
  if (!user) {
    throw new InfrastructureError(
      `Postgres refuses to run as root and the \`postgres\` system user does not exist; ${CREATE_POSTGRES_USER_HINT}`,
    );
  }
  return user;
}

/** The OS user dbproof itself runs as (the one the peer-auth map lets in). */
export function currentUser(): string {
  return os.userInfo().username;
}
