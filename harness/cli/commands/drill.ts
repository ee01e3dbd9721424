import path from 'node:path';
import { UsageError } from '../../errors.ts';
import { redact, redactDeep } from '../../redact.ts';
import type { ProviderName } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { CONFIG_OPTIONS, configFileOption } from '../config-option.ts';
import { printJson } from '../output.ts';

export const DRILL_HELP = `dbproof drill [--config FILE | --demo] [--provider native|containers]
             [--tool pg_basebackup|pgbackrest] [--duration 20s]
             [--pitr-at 10s] [--archive-timeout 5s] [--scale N] [--json]

A disaster drill (the backup-restore suite alone): starts the topology with WAL archived
into a directory of the run's own, seeds, starts the app, takes a base backup with the
tool (and its own verification), runs writers through the app recording every
acknowledged write, then SIGKILLs the primary and deletes its data directory. Restores
the latest state into a fresh node and points the app at it, and a second node to a
point in the middle of the writes. Prints the recovery time (restore start → the app's
first acknowledged write), the recovery point (age at the disaster of the oldest
acknowledged write missing; the missing ones by key in the results), whether the
point-in-time restore is exact, and the drill's own duration.

Native and containers providers (--provider containers: the archive is a directory on the
host mounted into the primary's container, the backup taken from the host over its
published port, each restore a fresh container; pg_basebackup only there). It never
touches a database dbproof did not start. The config's suites['backup-restore'] options
apply, the flags on top.
  --provider         native or containers (default: the config's)
  --tool             pg_basebackup (default) or pgbackrest (apt-get install -y pgbackrest; native only)
  --duration         how long the writers run before the disaster (default 20s)
  --pitr-at          the point-in-time target, after the writers' start (default: half of --duration)
  --archive-timeout  archive_timeout (default 5s; 0 never switches a segment)
  --scale            the data set's scale instead of the config's
  --json             print one JSON object: { runId, resultsDir, pass, drill: <suite result> }
Exit codes: 0 every budget holds · 1 a budget is broken · 2 bad input or infrastructure`;

/** `20s`, `500ms`, `2m` → ms, at most `maxMs`. */
function durationArg(name: string, raw: string | boolean | string[] | undefined, maxMs: number): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(raw));
  if (!match) throw new UsageError(`--${name} must be a duration such as 20s, 500ms or 2m (got '${raw}')`);
  const ms = Math.round(Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm']);
  if (ms > maxMs) throw new UsageError(`--${name} must be at most ${maxMs / 60_000}m (got '${raw}')`);
  return ms;
}

function scaleArg(raw: string | boolean | string[] | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const scale = Number(raw);
  if (!(scale > 0) || scale > 1000)
    throw new UsageError(`--scale must be a number above 0, at most 1000 (got '${raw}')`);
  return scale;
}

const seconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s`;

export async function drill(argv: string[]): Promise<number> {
  const { options } = parseArgs('drill', argv, {
    ...CONFIG_OPTIONS,
    json: { type: 'boolean' },
    provider: { type: 'string' },
    tool: { type: 'string' },
    duration: { type: 'string' },
    'pitr-at': { type: 'string' },
    'archive-timeout': { type: 'string' },
    scale: { type: 'string' },
  });
  if (options.help) {
    console.log(DRILL_HELP);
    return 0;
  }
  const config = configFileOption(options);
  const archiveTimeoutMs = durationArg('archive-timeout', options['archive-timeout'], 3_600_000);
  if (archiveTimeoutMs !== undefined && archiveTimeoutMs % 1000 !== 0)
    throw new UsageError(
      `--archive-timeout is whole seconds (archive_timeout's unit), e.g. 5s (got '${options['archive-timeout']}')`,
    );
  const drillOptions = {
    config,
    provider: options.provider as ProviderName | undefined,
    tool: options.tool as string | undefined,
    durationMs: durationArg('duration', options.duration, 600_000),
    pitrAtMs: durationArg('pitr-at', options['pitr-at'], 600_000),
    archiveTimeoutS: archiveTimeoutMs === undefined ? undefined : archiveTimeoutMs / 1000,
    scale: scaleArg(options.scale),
  };
  const [{ planDrill }, { runPlan }, { formatVerdict, verdictsWord }] = await Promise.all([
    import('../../run/drill.ts'),
    import('../../run/index.ts'),
    import('../../budgets/index.ts'),
  ]);
  const json = Boolean(options.json);
  const plan = await planDrill(drillOptions);
  const { run, result } = await runPlan(plan, {
    say: (line) => {
      if (!json) console.error(`dbproof: ${redact(line)}`);
    },
  });
  const suite = result.suites[0]!;
  if (json) {
    printJson(redactDeep({ runId: run.runId, resultsDir: run.dir, pass: suite.pass, drill: suite }));
    return suite.pass ? 0 : 1;
  }
  const m = suite.measurements;
  // No write acknowledged: nothing was there to recover (the verdicts say why).
  const nothingWritten = m.acknowledgedWrites === 0;
  const recoveryPoint = nothingWritten ? 'not measured, no write acknowledged' : seconds(m.rpoMs);
  const pointInTime = nothingWritten
    ? 'not checked'
    : m.pitrMismatches === 0
      ? 'exact'
      : m.pitrMismatches === null || m.pitrMismatches === undefined
        ? 'not restored'
        : `${m.pitrMismatches} writes wrong`;
  console.log(
    redact(
      [
        `${verdictsWord(suite.verdicts)} ${suite.suite}`,
        ...suite.verdicts.map((v) => `  ${formatVerdict(v)}`),
        `recovery time ${seconds(m.rtoMs)} (restore ${seconds(m.restoreMs)}) · recovery point ${recoveryPoint}, ${m.missingWrites ?? '?'} of ${m.acknowledgedWrites ?? 0} acknowledged writes missing · point in time ${pointInTime} · backup ${seconds(m.backupMs)} · drill ${seconds(m.drillMs)}`,
        `results in ${path.relative(process.cwd(), run.dir) || run.dir}`,
      ].join('\n'),
    ),
  );
  return suite.pass ? 0 : 1;
}
