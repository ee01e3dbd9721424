// The CI job `dbproof init` writes: install, Postgres and Redis binaries, the gate, the
// results kept whatever the gate said. Pure: one template per CI system.

export const CI_SYSTEMS = ['github', 'gitlab', 'none'] as const;
export type CiSystem = (typeof CI_SYSTEMS)[number];

/** Where each CI system reads its job from, relative to the project's root. */
export const CI_FILES: Record<Exclude<CiSystem, 'none'>, string> = {
  github: '.github/workflows/dbproof.yml',
  gitlab: '.gitlab-ci.yml',
};

// dbproof starts its own Postgres and Redis processes: it needs their binaries (with
// pg_stat_statements, in postgresql-contrib), not their services (scripts/install.sh, `dbproof doctor`).
const PACKAGES = 'postgresql postgresql-contrib redis-server';

const github = `# dbproof: the database budgets of dbproof.config.ts, checked on every push and pull request.
# Written by \`npx dbproof init\`: edit it. \`npx dbproof gate\` exits 0 when every budget holds,
# 1 when one is broken, 2 when it could not run (the step's log says why in one line).
name: dbproof

on:
  push:
    branches: [main]
  pull_request:

jobs:
  gate:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      # dbproof starts its own Postgres and Redis processes: it needs their binaries, not their services.
      - run: sudo apt-get update -qq && sudo apt-get install -y -qq ${PACKAGES}
      - run: npx dbproof doctor
      - run: npx dbproof gate
      # The run's summary (budgets, N+1 findings, loads) on the workflow run's page.
      - name: dbproof summary
        if: always()
        run: if [ -f results/latest/summary.md ]; then cat results/latest/summary.md >> "$GITHUB_STEP_SUMMARY"; fi
      # summary.json, junit.xml, summary.md and report.html (open it in a browser), kept even when the gate failed.
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: dbproof-results
          path: results/latest/
          if-no-files-found: ignore
`;

const gitlab = `# dbproof: the database budgets of dbproof.config.ts, checked on every pipeline.
# Written by \`npx dbproof init\`: edit it. \`npx dbproof gate\` exits 0 when every budget holds,
# 1 when one is broken, 2 when it could not run (the job's log says why in one line).
dbproof:
  image: node:20-bookworm
  timeout: 30 minutes
  before_script:
    # dbproof starts its own Postgres and Redis processes: it needs their binaries, not their services.
    - apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${PACKAGES}
    - npm ci
  script:
    - npx dbproof doctor
    - npx dbproof gate
  after_script:
    # results/latest is a link to the run's folder, and GitLab keeps a link as a link: copy what it points at.
    - if [ -d results/latest ]; then cp -rL results/latest dbproof-results; fi
  # summary.json, junit.xml, summary.md and report.html (open it in a browser), kept even when the gate failed.
  artifacts:
    when: always
    paths:
      - dbproof-results/
    reports:
      junit: dbproof-results/junit.xml
`;

export function ciTemplate(system: Exclude<CiSystem, 'none'>): string {
  return system === 'github' ? github : gitlab;
}
