// dbproof's layers, checked in `npm test` (`npm run lint:layers`). A module may import
// its own layer and the layers below it, never one above: the run's nouns never know
// who starts them, a writer never measures, a suite never starts a topology of its own.
// ARCHITECTURE.md explains each layer and where a new suite, provider, engine or writer goes.
//
//   entry    the CLI, dbproof/vitest, dbproof/playwright, the package's barrels (harness/index.ts, fixtures/index.ts)
//   run      harness/run (plan and run a gate), harness/config (dbproof.config.ts), suites/index.ts (the catalogue)
//   suites   harness/suite (the suites' toolkit) and suites/* (the suites themselves)
//   engines  providers, fault proxies, the app's process, load engines and scenarios
//   model    topology nouns, capture, results (schema and writers), fixtures (data sets, loader, snapshots), load measurements
//   base     errors, redaction, user modules, Postgres and process helpers, budgets, randomness, request strings, waiting
//
// Type-only imports are not checked: a type costs nothing at run time and creates no cycle.

const LAYERS = {
  base: [
    '^harness/(errors|redact|user-module|wait|version|package-files)\\.ts$',
    '^harness/(pg|process|budgets|random|http)/',
  ],
  model: [
    '^harness/(topology|capture|results)/',
    '^fixtures/(dataset|loader|snapshot|profiles)/',
    '^fixtures/(seed|private-database|defaults)\\.ts$',
    '^load/(timeline|summary|progress)\\.ts$',
    // The noise record's nouns and pure logic (schema, judgement, /proc parsers): the results
    // schema embeds the record, so it sits here; the monitor that starts the probe is an engine.
    '^harness/noise/(record|proc|parties|series)\\.ts$',
  ],
  engines: [
    '^harness/(providers|faults|app)/',
    '^load/(engines|k6)/',
    '^load/(scenario|regression)\\.ts$',
    // The noise monitor starts a process (its probe) and reads /proc: an engine, like the load engines.
    '^harness/noise/(monitor|probe-process|sampler|index)\\.ts$',
    '^harness/noise/probe\\.mjs$',
  ],
  // The suites' own *.test.ts files are vitest entry points, like dbproof's tests: not a layer.
  suites: ['^harness/suite/', '^suites/(?!index\\.ts$)(?!.*\\.test\\.ts$)'],
  run: ['^harness/(run|config)/', '^suites/index\\.ts$'],
  entry: ['^harness/(cli|vitest|playwright)/', '^harness/index\\.ts$', '^fixtures/index\\.ts$', '^bin/'],
};

const ORDER = Object.keys(LAYERS);
const UNDER_LAYERS = '^(harness|fixtures|load|suites)/';
const TESTS = '\\.test\\.ts$';
const pathsOf = (names) => names.flatMap((name) => LAYERS[name]);

/** One rule per layer: it may not import any layer above it. */
const layerRules = ORDER.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-no-layer-above`,
  comment: `a module of the '${layer}' layer imports one of the layers above it (${ORDER.slice(i + 1).join(', ')}): move the shared piece down, or the importer up (see ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: LAYERS[layer] },
  to: { path: pathsOf(ORDER.slice(i + 1)), dependencyTypesNot: ['type-only'] },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'every-module-has-a-layer',
      comment:
        'a module under harness/, fixtures/, load/ or suites/ that no layer names: give it one in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: UNDER_LAYERS, pathNot: [...pathsOf(ORDER), TESTS] },
      to: {},
    },
    {
      name: 'every-imported-module-has-a-layer',
      comment:
        'an import of a module under harness/, fixtures/, load/ or suites/ that no layer names: give it one in .dependency-cruiser.cjs',
      severity: 'error',
      from: {},
      to: { path: UNDER_LAYERS, pathNot: [...pathsOf(ORDER), TESTS] },
    },
    {
      name: 'no-circular',
      comment: 'an import cycle: split the shared piece into a module both may import',
      severity: 'error',
      from: { path: '^(harness|fixtures|load|suites)/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'production-code-imports-no-tests',
      comment: 'dbproof itself never imports its tests or their support files',
      severity: 'error',
      from: { path: '^(harness|fixtures|load|suites|bin)/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^test/', '\\.test\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.mjs', '.js', '.d.mts'] },
  },
};
