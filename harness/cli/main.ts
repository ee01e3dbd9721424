import { DbproofError } from '../errors.ts';
import { redact } from '../redact.ts';
import { DBPROOF_VERSION } from '../version.ts';
const HELP = `dbproof — database performance claims as checks CI can gate on

Usage: dbproof <command> [options]

Commands:
  init     write dbproof.config.ts, an example suite of your own and a CI job into this project
  up       start a Postgres primary, streaming replicas and Redis; print their URLs
  status   role, PID, port, state, replication and lag of each node
  down     stop what \`up\` started
  exec     start a topology, run a command with its URLs in the environment, stop it
  n1       find N+1 queries behind an HTTP endpoint (any language, any driver)
  seed     load a data set (a built-in profile or your own) into the topology's app database
  gate     the CI gate: topology, data, app, every suite and load scenario, results (summary.json, junit.xml, summary.md)
  merge    join the results of a gate run in shards (gate --shard 1/3 … 3/3) into one run
  baseline keep a passing gate run as the baseline for regression checks
  load     load one URL (open or closed model) and judge latency, error and throughput budgets
  test     run suites (failover, cache, pool, breaker, migration …) against an app and judge their budgets
  migrate-check  rehearse your migrations under live traffic: per statement, locks, the app's waits, rewrites
  drill    a disaster drill: base backup, WAL archive, the primary destroyed, restored; recovery point and time
  doctor   check this machine and say how to install what is missing

\`dbproof <command> --help\` for a command's options.
Exit codes: 0 ok · 1 a check failed · 2 bad input or missing infrastructure`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command's module, loaded only when that command runs: `dbproof --help` or a usage
 * error must not wait for pg, zod and faker to load (issue 15: ≤ 0.3 s).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands/up.ts')).up,
  status: async () => (await import('./commands/status.ts')).status,
  down: async () => (await import('./commands/down.ts')).down,
  exec: async () => (await import('./commands/exec.ts')).exec,
  seed: async () => (await import('./commands/seed.ts')).seed,
  n1: async () => (await import('./commands/n1.ts')).n1,
  test: async () => (await import('./commands/test.ts')).test,
  'migrate-check': async () => (await import('./commands/migrate-check.ts')).migrateCheck,
  drill: async () => (await import('./commands/drill.ts')).drill,
  gate: async () => (await import('./commands/gate.ts')).gate,
  merge: async () => (await import('./commands/merge.ts')).merge,
  baseline: async () => (await import('./commands/baseline.ts')).baseline,
  load: async () => (await import('./commands/load.ts')).load,
  doctor: async () => (await import('./commands/doctor.ts')).doctor,
  init: async () => (await import('./commands/init.ts')).init,
  __keep: async () => (await import('./commands/up.ts')).keep,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const names = Object.keys(COMMANDS)
    .filter((c) => !c.startsWith('_'))
    .join(', ');
  if (!command) {
    // No command is a usage error: one line on stderr, as every other one.
    console.error(`dbproof: give a command, one of ${names} (\`dbproof --help\` says what each does)`);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(DBPROOF_VERSION);
    return 0;
  }
  const loadCommand = COMMANDS[command];
  if (!loadCommand) {
    console.error(`dbproof: unknown command '${command}'; the commands are ${names} (\`dbproof --help\`)`);
    return 2;
  }
  return (await loadCommand())(rest);
}

/**
 * Exits with `code` once everything written to stdout and stderr has gone out, or after 10 s
 * at most: a reader that holds the pipe open and never reads must not keep dbproof alive.
 */
function exitOnceFlushed(code: number | string | undefined): void {
  setTimeout(() => process.exit(code), 10_000).unref();
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof DbproofError) {
    // A user's mistake or a missing piece of the machine: one line that says what to do, no stack.
    console.error(`dbproof: ${redact(error.message)}`);
    process.exitCode = error.exitCode;
  } else {
    // A bug in dbproof: the stack helps whoever fixes it.
    console.error(
      `dbproof: internal error: ${redact(error instanceof Error ? (error.stack ?? error.message) : String(error))}`,
    );
    process.exitCode = 2;
  }
}
// Explicit exit: a stray handle (a connection closing slowly) must not keep a finished command alive.
// Once stdout and stderr have been written out: on a pipe they are asynchronous, and an exit
// at once cut `gate --json` off at the pipe's ~219 KB (seen in the stability bench).
exitOnceFlushed(process.exitCode);
