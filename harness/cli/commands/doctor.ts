import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { DbproofError } from '../../errors.ts';
import {
  findPgBackRest,
  findPostgresBinaries,
  findRedisServer,
  PGBACKREST_INSTALL_HINT,
  POSTGRES_INSTALL_HINT,
  REDIS_INSTALL_HINT,
} from '../../providers/native/binaries.ts';
import { postgresRunAs, CREATE_POSTGRES_USER_HINT } from '../../providers/native/os-user.ts';
import { baseDir } from '../../providers/native/run-dir.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';

export const DOCTOR_HELP = `dbproof doctor [--json]

Checks what dbproof needs on this machine and prints, for each missing piece, the
command that installs it. Exit 1 when an essential piece is missing.`;

interface Check {
  name: string;
  ok: boolean;
  /** Without it nothing runs (exit 1); the others only limit what can run. */
  essential: boolean;
  detail: string;
  fix?: string;
}

function attempt(name: string, essential: boolean, fn: () => string): Check {
  try {
    return { name, ok: true, essential, detail: fn() };
  } catch (error) {
    return { name, ok: false, essential, detail: failureDetail(error) };
  }
}

/** One line: what is missing, without the child-process boilerplate. */
function failureDetail(error: unknown): string {
  if (error instanceof DbproofError) return error.message;
  const failure = error as NodeJS.ErrnoException & { path?: string; stderr?: string };
  if (failure.code === 'ENOENT') return `${failure.path ?? 'command'} not found on PATH`;
  const stderr = failure.stderr
    ?.trim()
    .split('\n')
    .find((line) => line.trim());
  return stderr ?? (error instanceof Error ? error.message : String(error));
}

function commandOutput(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim();
}

export function runChecks(): Check[] {
  const checks: Check[] = [];
  checks.push({
    ...attempt('postgres', true, () => {
      const bins = findPostgresBinaries();
      return `PostgreSQL ${bins.version} in ${bins.binDir}`;
    }),
    fix: `apt-get install -y postgresql postgresql-contrib (${POSTGRES_INSTALL_HINT.split(' or ')[1]})`,
  });
  checks.push({
    ...attempt('postgres user', true, () => {
      const user = postgresRunAs();
      return user
        ? `running as root: Postgres runs as ${user.username} (uid ${user.uid})`
        : 'not root: Postgres runs as this user';
    }),
    fix: CREATE_POSTGRES_USER_HINT.replace(/^create it with /, ''),
  });
  checks.push({
    ...attempt(
      'redis-server',
      true,
      () => `${commandOutput(findRedisServer(), ['--version']).split(' ').slice(0, 3).join(' ')}`,
    ),
    fix: REDIS_INSTALL_HINT.replace('install it with ', ''),
  });
  checks.push({
    ...attempt(
      'pgbackrest',
      false,
      () => `${commandOutput(findPgBackRest(), ['version'])} (backup-restore, drill --tool pgbackrest)`,
    ),
    fix: `${PGBACKREST_INSTALL_HINT.replace('install it with ', '')} (only for the backup-restore suite's tool pgbackrest)`,
  });
  checks.push({
    ...attempt(
      'docker engine',
      false,
      () =>
        `Docker ${commandOutput('docker', ['version', '--format', '{{.Server.Version}}'])} (for provider 'containers')`,
    ),
    fix: "apt-get install -y docker.io && (dockerd >/var/log/dockerd.log 2>&1 &)  (only for provider 'containers')",
  });
  checks.push({
    ...attempt('k6', false, () => commandOutput('k6', ['version'])),
    fix: 'see https://grafana.com/docs/k6/latest/set-up/install-k6/ (optional: dbproof runs its scenarios with autocannon without it)',
  });
  checks.push({
    ...attempt('free disk', true, () => {
      const dir = baseDir();
      const stats = statfsSync(dir);
      const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
      if (freeGiB < 1) throw new Error(`only ${freeGiB.toFixed(2)} GiB free in ${dir}; dbproof needs at least 1 GiB`);
      return `${freeGiB.toFixed(1)} GiB free in ${dir}`;
    }),
    fix: 'free some space, or set DBPROOF_TMPDIR to a directory on a larger disk',
  });
  return checks;
}

export async function doctor(argv: string[]): Promise<number> {
  const { options } = parseArgs('doctor', argv, { json: { type: 'boolean' } });
  if (options.help) {
    console.log(DOCTOR_HELP);
    return 0;
  }
  const checks = runChecks();
  const healthy = checks.every((c) => c.ok || !c.essential);
  if (options.json) {
    printJson({ healthy, checks: checks.map(({ fix, ...c }) => (c.ok ? c : { ...c, fix })) });
  } else {
    for (const check of checks) {
      const mark = check.ok ? 'ok  ' : check.essential ? 'FAIL' : 'warn';
      console.log(`${mark}  ${check.name.padEnd(14)} ${check.detail}`);
      if (!check.ok && check.fix) console.log(`      ${''.padEnd(14)} fix: ${check.fix}`);
    }
  }
  return healthy ? 0 : 1;
}
