#!/usr/bin/env bash
# Installs what dbproof needs on a Debian/Ubuntu machine that has Node.js:
# PostgreSQL server binaries (with pg_stat_statements), redis-server, the npm
# dependencies, and for the test suite python3-psycopg2 and Chromium (the browser tests;
# Playwright cannot download its own browser here). System packages are installed only when
# missing (as root, or with sudo). Docker stays optional: without an engine the containers
# and compose tests are skipped with a banner (.ci/run installs and starts one, and requires it).
set -euo pipefail
cd "$(dirname "$0")/.."

have_postgres() {
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1
}

missing=()
have_postgres || missing+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
# The test suite's black-box N+1 checks include a Python app on psycopg2 (Debian's python3).
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
# The postgres system user comes with the postgresql package; dbproof needs it when run as root.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1 && [ ${#missing[@]} -eq 0 ]; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  # No service is started by the packages' scripts where there is no init system; dbproof runs its own processes.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Chromium, for npm test's browser tests only: a machine that cannot install it (Ubuntu ships
# it as a snap) still gets dbproof, and is told what the browser tests will lack.
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "install.sh: could not install chromium; dbproof works without it, but npm test's browser tests (Playwright) need /usr/bin/chromium" >&2
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

# The CLI's compiled JavaScript (dist/): `dbproof` starts in a tenth of a second from it.
# Without it (or once a source file is newer) dbproof runs its TypeScript source through tsx.
npm run build --silent
