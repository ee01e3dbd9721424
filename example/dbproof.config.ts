// The reference app's demo configuration: what `dbproof gate --demo` and `dbproof test
// --demo` run. A team's own config (`npx dbproof init` writes one) has the same shape: its
// app's command, its data, its budgets (each suite's options are typed; every field has a default).
import { defineConfig } from 'dbproof';

export default defineConfig({
  // Synchronous replication: the promise "no acknowledged write is lost on failover" holds only with it.
  topology: { replicas: 2, redis: true, synchronous: true },
  dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
  app: {
    name: 'reference app',
    command: 'node --import tsx main.ts',
    ready: '/health',
    // A breaker per node that opens after 3 failures of its node and tries again after 1 s; 500 ms timeouts on the primary.
    env: { EXAMPLE_BREAKER_FAILURES: '3', EXAMPLE_BREAKER_RESET_MS: '1000', EXAMPLE_WRITE_TIMEOUT_MS: '500' },
  },
  suites: {
    // No query per item: the list (a join) and the dashboard (four fixed queries) at 5 and 25 rows.
    'n-plus-one': { endpoints: ['GET /inspections-joined?limit={K}', 'GET /dashboard?limit={K}'] },
    // How the plans endpoints' statements run, as properties of their plans (the suite's defaults: README, "The reference app").
    'query-plans': {},
    // Batches with bad items at each place, the fallback's cost, a reset and a freeze in its middle, the batched read's fallback.
    'batch-fallback': {},
    'replica-lost': { budgets: { timeToRecoverMs: 2000, errors: 1 } },
    'replica-frozen': {},
    'replica-lag': {},
    'redis-lost': {},
    'cache-effectiveness': { budgets: { hitRate: 0.8 } },
    pool: {},
    'circuit-breaker': { failures: 3 },
    'online-migration': {},
    'primary-lost': {},
    // "10 requests a second per API key, Redis-backed": clients over and under it, a made-up X-Forwarded-For, the RateLimit headers (4 windows of 1 s).
    'rate-limit': {},
    // /live and /ready probed every 50 ms under load while the primary goes silent for 3 s: readiness flips and comes back, liveness stays 200 (9 s).
    health: { budgets: { p99Ms: 100 } },
    // Every kind of answer (200, a cookie, 404, 429, 500) with HSTS, CSP, nosniff, frame and referrer rules, cookie flags (a few seconds).
    headers: {},
  },
  // Load scenarios `dbproof gate` runs after the suites; budgets as on `dbproof load`'s command line.
  scenarios: {
    // A weighted mix: 4 in 5 requests read an inspection, 1 in 5 its status; each endpoint with its own budget.
    'inspection-by-id': {
      mix: [
        { request: 'GET /inspections/{id}', weight: 4, budgets: 'p99=200ms' },
        { request: 'GET /inspections/{id}/status', weight: 1, budgets: 'p99=200ms,errors=0' },
      ],
      ids: { from: 1, to: 80, skew: 1.1 },
      rate: 100,
      durationMs: 5000,
      budgets: 'p99=200ms,errors=0.1%,rps=90',
    },
    'inspections-list': {
      request: 'GET /inspections-joined?limit=20',
      connections: 8,
      durationMs: 5000,
      budgets: 'p95=100ms,errors=0',
    },
  },
});
