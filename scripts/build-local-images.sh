#!/usr/bin/env bash
# Builds the images the containers provider's tests use, without any registry:
# a Debian `minbase` root filesystem (debootstrap) with postgresql-15 and redis-server,
# imported with `docker import` and tagged dbproof-local/postgres:15 and
# dbproof-local/redis:7 (the same image under two names: one root filesystem holds
# both servers, half the build time). With both tags present it does nothing.
set -euo pipefail

PG_TAG="${DBPROOF_LOCAL_PG_TAG:-dbproof-local/postgres:15}"
REDIS_TAG="${DBPROOF_LOCAL_REDIS_TAG:-dbproof-local/redis:7}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$PG_TAG" >/dev/null 2>&1 && docker image inspect "$REDIS_TAG" >/dev/null 2>&1; then
  echo "images present: $PG_TAG $REDIS_TAG"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi

ROOT="$(mktemp -d /var/tmp/dbproof-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
echo "debootstrap $SUITE into $ROOT (about a minute)"
debootstrap --variant=minbase --include=postgresql-15,redis-server,util-linux "$SUITE" "$ROOT" "$MIRROR" >/dev/null
# The package's own cluster and caches are not needed in the image.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/lib/postgresql/15/main "$ROOT"/etc/postgresql/15/main
tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  - "$PG_TAG" >/dev/null
docker tag "$PG_TAG" "$REDIS_TAG"
echo "built $PG_TAG and $REDIS_TAG"
