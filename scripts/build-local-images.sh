#!/usr/bin/env bash
# Builds the images the containers provider's tests use, without any registry:
# a Debian `minbase` root filesystem (debootstrap) with postgresql-15, redis-server and
# pgbackrest (the backup-restore drill's second tool, run inside the containers),
# imported with `docker import`, then a pristine Postgres data directory baked in by
# dbproof's node script (`node.sh bake`: initdb, roles, pg_stat_statements, no password),
# committed and tagged dbproof-local/postgres:15 and dbproof-local/redis:7 (the same
# image under two names: one root filesystem holds both servers, half the build time).
# A node from it starts in a fraction of a second: no initdb, no provisioning, and its
# replicas are copies of the same state instead of base backups.
#
# With both tags present and labelled with the current pristine layout it does nothing;
# an image from before (no label, or another layout) is rebuilt.
set -euo pipefail

PG_TAG="${DBPROOF_LOCAL_PG_TAG:-dbproof-local/postgres:15}"
REDIS_TAG="${DBPROOF_LOCAL_REDIS_TAG:-dbproof-local/redis:7}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE_SCRIPT="$(cd "$(dirname "$0")/.." && pwd)/harness/providers/containers/node.sh"
# Bump when what the image holds changes (what `node.sh bake` leaves, its packages), so that
# cached images are rebuilt. 2: pgbackrest installed.
LAYOUT=2
LABEL=org.dbproof.pristine-layout

layout_of() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
if [ "$(layout_of "$PG_TAG")" = "$LAYOUT" ] && [ "$(layout_of "$REDIS_TAG")" = "$LAYOUT" ]; then
  echo "images present: $PG_TAG $REDIS_TAG (pristine layout $LAYOUT)"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi

ROOT="$(mktemp -d /var/tmp/dbproof-rootfs.XXXXXX)"
BAKE="dbproof-bake-$$"
cleanup() {
  rm -rf "$ROOT"
  # Only the container this script created.
  docker rm -f "$BAKE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "debootstrap $SUITE into $ROOT (about a minute)"
debootstrap --variant=minbase --include=postgresql-15,redis-server,pgbackrest,util-linux "$SUITE" "$ROOT" "$MIRROR" >/dev/null
# The package's own cluster and caches are not needed in the image.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/lib/postgresql/15/main "$ROOT"/etc/postgresql/15/main
BASE="$(tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  -)"

# The bake runs the same script as every node, from a copy that does not stay in the image.
docker create --name "$BAKE" --network none "$BASE" /bin/sh -c '/bin/sh /dbproof/node.sh bake && rm -rf /dbproof' >/dev/null
SCRIPT_DIR="$ROOT/dbproof-script"
mkdir -p "$SCRIPT_DIR"
cp "$NODE_SCRIPT" "$SCRIPT_DIR/node.sh"
docker cp "$SCRIPT_DIR" "$BAKE:/dbproof" >/dev/null
docker start -a "$BAKE"
[ "$(docker inspect -f '{{.State.ExitCode}}' "$BAKE")" = 0 ] || { echo "baking the data directory failed" >&2; exit 1; }
docker commit --change 'CMD ["/bin/sh"]' --change "LABEL $LABEL=$LAYOUT" "$BAKE" "$PG_TAG" >/dev/null
docker tag "$PG_TAG" "$REDIS_TAG"
echo "built $PG_TAG and $REDIS_TAG (pristine layout $LAYOUT)"
