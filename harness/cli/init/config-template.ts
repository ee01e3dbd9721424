// dbproof.config.ts as `dbproof init` writes it: every section commented, placeholders
// named as such. Pure: the app's name and start command come from the caller.

/** What init knows of the project it writes into (from its package.json, when there is one). */
export interface ProjectFacts {
  /** package.json's name. */
  name: string | undefined;
  /** Whether package.json has scripts.start: then `npm start` starts the app. */
  hasStartScript: boolean;
  /** Whether package.json names dbproof as a dependency already. */
  hasDbproof: boolean;
  /** Whether package.json says "type": "module": its .ts files load as ES modules (else init writes .mts). */
  esModules: boolean;
}

/** The team suite init writes: its name (its key in suites:). */
export const EXAMPLE_SUITE = 'list-endpoint';

/** Where init writes, relative to the project's folder. */
export interface InitLayout {
  config: string;
  suite: string;
}

/** A TypeScript string literal, single-quoted. */
const literal = (text: string): string => `'${text.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;

function appCommand(facts: ProjectFacts): string {
  if (facts.hasStartScript)
    return `    // package.json's scripts.start. dbproof runs it (through sh -c, in this folder) with the
    // topology's URLs in its environment, and stops it after the run.
    command: 'npm start',`;
  return `    // REPLACE: the command that starts your app (package.json has no scripts.start). dbproof
    // runs it (through sh -c, in this folder) with the topology's URLs in its environment,
    // and stops it after the run. Or give url: 'http://…' for an app that is already running.
    command: 'node server.js',`;
}

export function configTemplate(facts: ProjectFacts, layout: InitLayout): string {
  return `// dbproof's configuration: what to start, which data to load, your app and how it finds
// the databases, and the budgets it must keep. Written by \`npx dbproof init\`: edit it.
// \`npx dbproof gate\` runs it all (the CI workflow too); every option is documented where
// defineConfig declares it (hover in your editor) and in dbproof's README.
// The placeholder endpoint is GET /items: replace it with one of your app's list endpoints.
import { defineConfig } from 'dbproof';

export default defineConfig({
  // Started for the run and removed after it: a Postgres primary, streaming replicas and Redis,
  // as processes on this machine (provider 'native'; 'containers' and 'compose' use Docker).
  topology: { replicas: 1, redis: true },
  // Loaded into the app's database before the app starts: false (your app's migrations create
  // what it needs), a built-in profile ({ profile: 'inspections', scale: 0.01 }), or a module
  // of yours ({ file: './dbproof/dataset.ts' }, its default export defineDataset({ … })).
  dataset: false,
  app: {
    name: ${literal(facts.name ?? 'app')},
${appCommand(facts)}
    // The app listens on the port dbproof gives it in PORT (default URL http://127.0.0.1:<PORT>),
    // and is ready once this path answers 2xx.
    ready: '/health',
    // The variables the topology's URLs go in (these are the defaults; replica URLs comma-separated).
    envNames: { primary: 'DATABASE_URL', replicas: 'DATABASE_REPLICA_URLS', redis: 'REDIS_URL', port: 'PORT' },
  },
  // The suites \`dbproof gate\` and \`dbproof test\` run, each with its options (budgets, endpoints).
  suites: {
    // No query per item: the endpoint runs the same statements at 5 items and at 25 ({K} is the size).
    'n-plus-one': { endpoints: ['GET /items?limit={K}'] },
    // A suite of your own (${layout.suite}): its key is its name, \`use\` its module
    // (relative to this file, or the value defineSuite returns), the rest its options.
    ${literal(EXAMPLE_SUITE)}: {
      use: ${literal(`./${layout.suite}`)},
      request: 'GET /items?limit=20',
      rate: 20,
      durationMs: 5000,
      budgets: { p99Ms: 300, errors: 0 },
    },
  },
  // Load scenarios \`dbproof gate\` runs after the suites: one request (or a weighted mix), an
  // open-model rate (or closed-model connections), budgets as on \`dbproof load\`'s command line.
  // \`npx dbproof baseline\` keeps a passing run: later gates fail a scenario that got slower.
  scenarios: {
    'items-list': {
      request: 'GET /items?limit=20',
      rate: 50,
      durationMs: 10_000,
      budgets: 'p95=100ms,p99=250ms,errors=0',
    },
  },
});
`;
}
