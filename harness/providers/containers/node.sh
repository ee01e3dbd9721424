#!/bin/sh
# dbproof's own entrypoint for a Postgres node in a container. It does not depend on
# an image's entrypoint: any image with the Postgres server binaries, a `postgres`
# user and setpriv (util-linux) will do (the official images, or dbproof-local/*).
#
#   node.sh primary  [-c name=value …]   initdb (first start only), provision, run postgres
#   node.sh replica  [-c name=value …]   pg_basebackup from $DBPROOF_PRIMARY_HOST (first start only), run as a standby
#
# Environment: DBPROOF_ADMIN_VERIFIER, DBPROOF_APP_VERIFIER, DBPROOF_REPLICATION_VERIFIER
# (SCRAM verifiers; docker-compose.yml gives DBPROOF_*_PASSWORD instead, hashed by the
# server) on the primary; DBPROOF_REPLICATION_PASSWORD, DBPROOF_PRIMARY_HOST and
# DBPROOF_NODE_NAME on a replica; DBPROOF_BRIDGE_GATEWAY, the host's address on Docker's
# default bridge, where the provider knows it. Idempotent: after a kill or stop, a start finds the data directory and
# only runs postgres again.
set -eu

ROLE="$1"
shift
ADMIN_SECRET="${DBPROOF_ADMIN_VERIFIER:-${DBPROOF_ADMIN_PASSWORD:-}}"
APP_SECRET="${DBPROOF_APP_VERIFIER:-${DBPROOF_APP_PASSWORD:-}}"
REPLICATION_SECRET="${DBPROOF_REPLICATION_VERIFIER:-${DBPROOF_REPLICATION_PASSWORD:-}}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$PGBIN" ] || PGBIN="$(dirname "$(command -v postgres)")"
PGDATA=/var/lib/dbproof/data
RUN=/run/dbproof
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

# /proc/net/route holds addresses as little-endian hex (images need not have `ip`).
hex_address() { printf '%d.%d.%d.%d' "0x$(echo "$1" | cut -c7-8)" "0x$(echo "$1" | cut -c5-6)" "0x$(echo "$1" | cut -c3-4)" "0x$(echo "$1" | cut -c1-2)"; }
prefix_length() {
  mask=$(printf '%d' "0x$1") bits=0
  while [ "$mask" -gt 0 ]; do bits=$((bits + (mask & 1))) mask=$((mask >> 1)); done
  echo "$bits"
}

# Who may log in over TCP: the networks this node is on at its first start (the
# topology's own: its replicas, and the host through the published ports), and the
# host's address on Docker's default bridge, where a partitioned node is moved and the
# host still reaches it. Never any address: other containers on that bridge may not.
client_networks() {
  while read -r _iface destination gateway _flags _refcnt _use _metric mask _rest; do
    # Directly connected routes (no gateway), not the default one.
    [ "$destination" != Destination ] && [ "$destination" != 00000000 ] && [ "$gateway" = 00000000 ] || continue
    echo "$(hex_address "$destination")/$(prefix_length "$mask")"
  done </proc/net/route
  [ -z "${DBPROOF_BRIDGE_GATEWAY:-}" ] || echo "$DBPROOF_BRIDGE_GATEWAY/32"
}

mkdir -p /var/lib/dbproof "$RUN"
chown postgres:postgres /var/lib/dbproof "$RUN"
chmod 700 "$RUN"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"
  if [ "$ROLE" = primary ]; then
    # initdb stores a SCRAM verifier given as the password as it is: no clear password here.
    [ -n "$ADMIN_SECRET" ] && [ -n "$APP_SECRET" ] && [ -n "$REPLICATION_SECRET" ] || { echo "dbproof: set the admin, app and replication passwords (or verifiers)" >&2; exit 2; }
    printf '%s\n' "$ADMIN_SECRET" > "$RUN/pw"
    chown postgres "$RUN/pw"
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U dbproof --pwfile="$RUN/pw" --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C --no-sync --no-instructions --wal-segsize=1 >/dev/null
    rm -f "$RUN/pw"
    echo "dbproof  postgres  dbproof" > "$PGDATA/pg_ident.conf"
    NETWORKS="$(client_networks)"
    [ -n "$NETWORKS" ] || { echo "dbproof: this container is on no network (/proc/net/route)" >&2; exit 2; }
    {
      echo "local   all          dbproof                peer  map=dbproof"
      for network in $NETWORKS; do
        echo "host    all          all          $network  scram-sha-256"
        echo "host    replication  replicator   $network  scram-sha-256"
      done
    } > "$PGDATA/pg_hba.conf"
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$RUN" -w start >/dev/null
    as_postgres "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$RUN" -U dbproof -d template1 -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
    as_postgres "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$RUN" -U dbproof -d postgres >/dev/null <<SQL
SET pg_stat_statements.track_utility = off;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE ROLE app LOGIN CREATEDB PASSWORD '$APP_SECRET';
CREATE ROLE replicator LOGIN REPLICATION PASSWORD '$REPLICATION_SECRET';
CREATE DATABASE app OWNER app;
SQL
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  else
    printf '*:*:*:replicator:%s\n' "$DBPROOF_REPLICATION_PASSWORD" > "$RUN/pgpass"
    chown postgres "$RUN/pgpass"
    chmod 600 "$RUN/pgpass"
    until PGPASSFILE="$RUN/pgpass" as_postgres "$PGBIN/pg_isready" -q -h "$DBPROOF_PRIMARY_HOST" -p 5432 -U replicator; do sleep 0.1; done
    # -R writes standby.signal and a primary_conninfo with these parameters (application_name included).
    PGPASSFILE="$RUN/pgpass" as_postgres "$PGBIN/pg_basebackup" -D "$PGDATA" -X stream -R --no-sync -c fast \
      -d "host=$DBPROOF_PRIMARY_HOST port=5432 user=replicator application_name=$DBPROOF_NODE_NAME passfile=$RUN/pgpass"
  fi
fi

echo "dbproof: starting postgres ($ROLE)"
exec setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$PGDATA" \
  -c listen_addresses='*' -c unix_socket_directories="$RUN" "$@"
