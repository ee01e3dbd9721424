#!/usr/bin/env bash
# Installs what dbproof needs on a Debian/Ubuntu machine that has Node.js:
# PostgreSQL server binaries (with pg_stat_statements), redis-server, pgBackRest (the
# backup-restore suite and `dbproof drill` with tool pgbackrest), the npm
# dependencies, and for the test suite python3-psycopg2 and Chromium (the browser tests;
# Playwright cannot download its own browser here). System packages are installed only when
# missing (as root, or with sudo).
#
# Docker stays optional: without an engine `npm test` skips the containers and compose
# tests and ends with a banner that counts them. With --with-docker it is required: the
# engine's packages (docker.io, docker-compose, iptables, debootstrap) are installed, an
# engine is started when none answers, and the local images the containers tests use are
# built (scripts/build-local-images.sh). .ci/run runs it so.
#
#   ./scripts/install.sh [--with-docker [--dockerd-pid-file FILE]]
#
#   --dockerd-pid-file FILE  the pid of the engine this script started goes into FILE (emptied
#                            first, left empty when an engine already answered), so that the
#                            caller can stop that engine and only that one (.ci/run does)
#
# Exit 0 when all is installed; 3 when --with-docker was asked but no Docker engine answers
# (everything else is installed then); any other non-zero exit for any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

WITH_DOCKER=""
DOCKERD_PID_FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --with-docker) WITH_DOCKER=1 ;;
    --dockerd-pid-file) DOCKERD_PID_FILE="${2:?install.sh: --dockerd-pid-file needs a file}"; shift ;;
    --dockerd-pid-file=*) DOCKERD_PID_FILE="${1#*=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see ./scripts/install.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$DOCKERD_PID_FILE" ] && [ -z "$WITH_DOCKER" ]; then
  echo "install.sh: --dockerd-pid-file goes with --with-docker" >&2
  exit 2
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Installs packages quietly; the package lists are updated first only when the install needs it.
apt_install_quietly() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

have_postgres() {
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1
}

missing=()
have_postgres || missing+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
# The backup-restore suite's second tool (pg_basebackup comes with postgresql).
command -v pgbackrest >/dev/null 2>&1 || missing+=(pgbackrest)
# The test suite's black-box N+1 checks include a Python app on psycopg2 (Debian's python3).
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
# The postgres system user comes with the postgresql package; dbproof needs it when run as root.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1 && [ ${#missing[@]} -eq 0 ]; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # No service is started by the packages' scripts where there is no init system; dbproof runs its own processes.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Chromium, for npm test's browser tests only: a machine that cannot install it (Ubuntu ships
# it as a snap) still gets dbproof, and is told what the browser tests will lack.
if ! command -v chromium >/dev/null 2>&1; then
  apt_install_quietly chromium \
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

[ -n "$WITH_DOCKER" ] || exit 0

# --with-docker, last, so that everything above is installed even when no engine can be had.
docker_answers() { docker info >/dev/null 2>&1; }
compose_present() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }

[ -z "$DOCKERD_PID_FILE" ] || : >"$DOCKERD_PID_FILE"
docker_packages=()
if ! docker_answers; then
  command -v dockerd >/dev/null 2>&1 || docker_packages+=(docker.io)
  # dockerd sets up its bridge network with iptables.
  command -v iptables >/dev/null 2>&1 || docker_packages+=(iptables)
fi
compose_present || docker_packages+=(docker-compose)
# scripts/build-local-images.sh builds the images' root file system with it (no registry needed).
command -v debootstrap >/dev/null 2>&1 || docker_packages+=(debootstrap)
if [ ${#docker_packages[@]} -gt 0 ]; then
  echo "installing: ${docker_packages[*]}"
  apt_install_quietly "${docker_packages[@]}" || echo "install.sh: could not install ${docker_packages[*]}" >&2
fi

DOCKERD_LOG="${TMPDIR:-/tmp}/dbproof-dockerd.log"
if ! docker_answers; then
  started=""
  waited=60
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    # A machine with systemd runs the engine as its service (and stops it the same way).
    $SUDO systemctl start docker >/dev/null 2>&1 || true
  elif [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
    # No init system (a container, CI): an engine of this script's own, its pid handed to the caller.
    dockerd </dev/null >"$DOCKERD_LOG" 2>&1 &
    started=$!
    [ -z "$DOCKERD_PID_FILE" ] || echo "$started" >"$DOCKERD_PID_FILE"
  else
    waited=0 # nothing was started: nothing to wait for
  fi
  for _ in $(seq 1 "$waited"); do docker_answers && break; sleep 1; done
  if ! docker_answers; then
    if [ -n "$started" ]; then
      # Why it did not answer, then the engine that never did is not left behind.
      tail -n 20 "$DOCKERD_LOG" | sed 's/^/dockerd: /' >&2 || true
      kill "$started" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$started" 2>/dev/null || break; sleep 1; done
      [ -z "$DOCKERD_PID_FILE" ] || : >"$DOCKERD_PID_FILE"
    fi
    echo "install.sh: no Docker engine answers and none could be started$([ -n "$started" ] && echo " (dockerd's log: $DOCKERD_LOG)"); the containers and compose tests need one: start it yourself, or run ./scripts/install.sh without --with-docker to skip them" >&2
    exit 3
  fi
  if [ -n "$started" ]; then
    echo "install.sh: started a Docker engine (dockerd, pid $started, log $DOCKERD_LOG); stop it with: kill $started"
  fi
fi

./scripts/build-local-images.sh || {
  echo "install.sh: the local images could not be built (scripts/build-local-images.sh, above); the containers tests need them" >&2
  exit 1
}
