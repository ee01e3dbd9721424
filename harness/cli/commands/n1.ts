import type { WatchedNode } from '../../capture/black-box.ts';
import { UsageError } from '../../errors.ts';
import { redact } from '../../redact.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { ownerAlive, readState } from '../state.ts';

export const N1_HELP = `dbproof n1 '<url with {K}>' --sizes 5,25 [--db-url URL] [--db-role ROLE] [--json]
dbproof n1 --at 5=<url> --at 25=<url> [--db-url URL] [--db-role ROLE] [--json]

Requests the URL at each size, one request at a time, attributes to each request the
statements the database ran for the app's role (pg_stat_statements, so any language or
driver), and reports the statements whose count grows with the size: N+1 queries.
Exit 1 when an N+1 is found, 0 when none, 2 on bad input.

  --sizes A,B,…    increasing sizes substituted for {K} (default 5,25)
  --at SIZE=URL    where the size lives in the data, not the URL: one URL per size
  --db-url URL     a superuser (or pg_read_all_stats) URL of the database; default: every
                   Postgres node of the topology \`dbproof up\` started here
  --db-role ROLE   the role the app connects as (default app)
  --db-name NAME   only statements in this database (default: every database)
  --repeats N      measured requests per size (default 2; the fewest statements count)
  --json           one JSON object: findings and per-shape counts per size`;

/**
 * Sizes as given (`--sizes`, or the sizes of the `--at`s in order), checked before anything
 * else: at least two, whole, strictly increasing (a repeated size would silently collapse).
 */
function checkSizes(flag: '--sizes' | '--at', sizes: number[]): number[] {
  const example = flag === '--sizes' ? '--sizes 5,25' : '--at 5=URL --at 25=URL';
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 1))
    throw new UsageError(`${flag}: sizes are whole numbers from 1 (got ${sizes.join(',')}), e.g. ${example}`);
  if (sizes.length < 2)
    throw new UsageError(`${flag}: an N+1 check needs at least two sizes (got ${sizes.join(',')}), e.g. ${example}`);
  if (sizes.some((s, i) => i > 0 && s <= sizes[i - 1]!))
    throw new UsageError(`${flag}: sizes must be strictly increasing (got ${sizes.join(',')}), e.g. ${example}`);
  return sizes;
}

function sizesFrom(raw: string | undefined): number[] {
  const text = raw ?? '5,25';
  const sizes = text.split(',').map((s) => s.trim());
  if (sizes.some((s) => !/^\d+$/.test(s)))
    throw new UsageError(`--sizes must be whole numbers separated by commas, e.g. 5,25 (got '${text}')`);
  return checkSizes('--sizes', sizes.map(Number));
}

function urlOrThrow(text: string, what: string): string {
  try {
    const url = new URL(text);
    if (!/^https?:$/.test(url.protocol)) throw new Error();
    return text;
  } catch {
    throw new UsageError(`${what} is not an http(s) URL: '${redact(text)}'`);
  }
}

export async function n1(argv: string[]): Promise<number> {
  const { options, positionals: templates } = parseArgs(
    'n1',
    argv,
    {
      sizes: { type: 'string' },
      at: { type: 'string', multiple: true },
      'db-url': { type: 'string' },
      'db-role': { type: 'string' },
      'db-name': { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
    true,
  );
  if (options.help) {
    console.log(N1_HELP);
    return 0;
  }
  const at = (options.at as string[] | undefined) ?? [];
  const urlsBySize = new Map<number, string>();
  if (at.length > 0) {
    if (templates.length > 0 || options.sizes)
      throw new UsageError('give either a URL template with --sizes, or --at SIZE=URL for each size, not both');
    const entries = at.map((entry) => {
      const match = /^(\d+)=(.+)$/.exec(entry);
      if (!match)
        throw new UsageError(
          `--at must be SIZE=URL, e.g. --at 25=http://127.0.0.1:3000/orders/7 (got '${redact(entry)}')`,
        );
      return { size: Number(match[1]), url: urlOrThrow(match[2]!, `--at ${match[1]}`) };
    });
    checkSizes(
      '--at',
      entries.map((e) => e.size),
    );
    for (const { size, url } of entries) urlsBySize.set(size, url);
  } else {
    if (templates.length !== 1)
      throw new UsageError(
        "give one URL with {K} where the size goes, e.g. dbproof n1 'http://127.0.0.1:3000/orders?limit={K}' --sizes 5,25",
      );
    const template = urlOrThrow(templates[0]!.replace('{K}', '1'), 'the URL') && templates[0]!;
    if (!template.includes('{K}'))
      throw new UsageError(`the URL has no {K} to put the size in: '${redact(template)}' (or use --at SIZE=URL)`);
    for (const size of sizesFrom(options.sizes as string | undefined))
      urlsBySize.set(size, template.replaceAll('{K}', String(size)));
  }
  const repeats = options.repeats === undefined ? 2 : Number(options.repeats);
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20)
    throw new UsageError(`--repeats must be a whole number from 1 to 20 (got '${options.repeats}')`);

  let nodes: WatchedNode[];
  if (options['db-url']) {
    const dbUrl = String(options['db-url']);
    if (!/^postgres(ql)?:\/\//.test(dbUrl)) throw new UsageError('--db-url must be a postgres:// URL');
    nodes = [{ name: 'database', adminUrl: dbUrl }];
  } else {
    const state = readState();
    if (!state || !ownerAlive(state))
      throw new UsageError(
        'no database to watch: start a topology with `dbproof up --detach`, or pass --db-url postgres://…',
      );
    nodes = state.topology.nodes.filter((n) => n.kind === 'postgres').map((n) => ({ name: n.name, adminUrl: n.url }));
  }
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const { checkEndpoint, formatReport } = await import('../../capture/n1.ts');
  const report = await checkEndpoint({
    urlsBySize,
    nodes,
    role: String(options['db-role'] ?? 'app'),
    database: options['db-name'] as string | undefined,
    repeats,
  });
  if (options.json) printJson(report);
  else console.log(formatReport(report));
  return report.findings.length > 0 ? 1 : 0;
}
