#!/bin/sh
# dbproof's own entrypoint for a Postgres node in a container. It does not depend on
# an image's entrypoint: any image with the Postgres server binaries, a `postgres`
# user and setpriv (util-linux) will do (the official images, or dbproof-local/*).
#
#   node.sh bake                          image build time: an initialised, provisioned data
#                                         directory without any password (the pristine state)
#   node.sh primary  [-c name=value …]   first start: the pristine state with this run's
#                                         passwords, else initdb and provision; run postgres
#   node.sh restore  [-c name=value …]   first start: the base backup at /dbproof/backup
#                                         (the containers provider's drill), or pgBackRest's
#                                         restore when DBPROOF_RESTORE_FROM holds its options,
#                                         replaying the archive when DBPROOF_RECOVERY is set
#   node.sh replica  [-c name=value …]   first start: a standby made from the pristine state
#                                         (where the provider says the primary starts from it
#                                         too), else a pg_basebackup from $DBPROOF_PRIMARY_HOST
#
# Environment: DBPROOF_ADMIN_VERIFIER, DBPROOF_APP_VERIFIER, DBPROOF_REPLICATION_VERIFIER
# (SCRAM verifiers; docker-compose.yml gives DBPROOF_*_PASSWORD instead, hashed by the
# server) on the primary; DBPROOF_PRIMARY_HOST, DBPROOF_NODE_NAME and the replication
# password on a replica, as the passfile /dbproof/replication.pgpass (the containers
# provider: no clear password in the container's environment) or DBPROOF_REPLICATION_PASSWORD
# (docker-compose.yml); DBPROOF_REPLICA_SOURCE=pristine when the primary starts from the
# same pristine state at the same time (then a copy of it is a valid base backup);
# DBPROOF_BRIDGE_GATEWAY, the host's address on Docker's default bridge, where the provider
# knows it. Idempotent: after a kill or stop, a start finds the data directory and only
# runs postgres again.
set -eu

ROLE="$1"
shift
ADMIN_SECRET="${DBPROOF_ADMIN_VERIFIER:-${DBPROOF_ADMIN_PASSWORD:-}}"
APP_SECRET="${DBPROOF_APP_VERIFIER:-${DBPROOF_APP_PASSWORD:-}}"
REPLICATION_SECRET="${DBPROOF_REPLICATION_VERIFIER:-${DBPROOF_REPLICATION_PASSWORD:-}}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$PGBIN" ] || PGBIN="$(dirname "$(command -v postgres)")"
# A baked data directory (`node.sh bake`) is used where it was baked, not at the usual
# place: a node.sh from before baking, started on a newer image, initialises its own.
BAKED=/var/lib/dbproof/baked
PGDATA=/var/lib/dbproof/data
[ ! -s "$BAKED/PG_VERSION" ] || PGDATA="$BAKED"
# Present in an image whose data directory was baked until a node's first start.
PRISTINE=/var/lib/dbproof/pristine
RUN=/run/dbproof
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
fail() { echo "dbproof: $*" >&2; exit 2; }

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

# pg_hba.conf is per node and never in the image: the networks are only known at the first start.
write_hba() {
  NETWORKS="$(client_networks)"
  [ -n "$NETWORKS" ] || fail "this container is on no network (/proc/net/route)"
  {
    echo "local   all          dbproof                peer  map=dbproof"
    for network in $NETWORKS; do
      echo "host    all          all          $network  scram-sha-256"
      echo "host    replication  replicator   $network  scram-sha-256"
    done
  } > "$PGDATA/pg_hba.conf"
}

# initdb; with a password file, the superuser gets that password (a SCRAM verifier is stored as it is).
init_cluster() {
  if [ -n "${1:-}" ]; then auth="--auth-host=scram-sha-256 --pwfile=$1"; else auth="--auth-host=reject"; fi
  # shellcheck disable=SC2086 # $auth is two words on purpose
  as_postgres "$PGBIN/initdb" -D "$PGDATA" -U dbproof --auth-local=peer $auth \
    -E UTF8 --locale=C --no-sync --no-instructions --wal-segsize=1 >/dev/null
  echo "dbproof  postgres  dbproof" > "$PGDATA/pg_ident.conf"
  echo "local   all          dbproof                peer  map=dbproof" > "$PGDATA/pg_hba.conf"
}

# The roles, database and extensions every topology starts with; a role without a password when its secret is empty.
provision() {
  app_password="" replication_password=""
  [ -z "$1" ] || app_password="PASSWORD '$1'"
  [ -z "$2" ] || replication_password="PASSWORD '$2'"
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$RUN" -w start >/dev/null
  as_postgres "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$RUN" -U dbproof -d template1 -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  as_postgres "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$RUN" -U dbproof -d postgres >/dev/null <<SQL
SET pg_stat_statements.track_utility = off;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE ROLE app LOGIN CREATEDB $app_password;
CREATE ROLE replicator LOGIN REPLICATION $replication_password;
CREATE DATABASE app OWNER app;
SQL
  # A fast shutdown ends with a checkpoint: the directory is then a valid base backup.
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
}

# This run's passwords into the pristine state, in single-user mode: no server to start
# and stop, no listener, and no pg_stat_statements (not loaded) to keep the statements.
# wal_keep_size keeps the WAL from the pristine checkpoint on for the standbys made from it.
set_passwords() {
  if ! as_postgres "$PGBIN/postgres" --single -D "$PGDATA" -c fsync=off -c wal_keep_size=512MB postgres \
    >/dev/null 2>"$RUN/single.log" <<SQL || grep -q -e ERROR -e FATAL "$RUN/single.log"; then
ALTER ROLE dbproof PASSWORD '$ADMIN_SECRET';
ALTER ROLE app PASSWORD '$APP_SECRET';
ALTER ROLE replicator PASSWORD '$REPLICATION_SECRET';
SQL
    cat "$RUN/single.log" >&2
    fail "could not set this run's passwords"
  fi
  rm -f "$RUN/single.log"
}

# The replication password as $RUN/pgpass, readable by postgres only.
install_passfile() {
  if [ -n "${DBPROOF_REPLICATION_PASSWORD:-}" ]; then
    printf '*:*:*:replicator:%s\n' "$DBPROOF_REPLICATION_PASSWORD" > "$RUN/pgpass"
  elif [ -s /dbproof/replication.pgpass ]; then
    cp /dbproof/replication.pgpass "$RUN/pgpass"
    rm -f /dbproof/replication.pgpass
  else
    fail "a replica needs the replication password (/dbproof/replication.pgpass or DBPROOF_REPLICATION_PASSWORD)"
  fi
  chown postgres "$RUN/pgpass"
  chmod 600 "$RUN/pgpass"
}

conninfo() { echo "host=$DBPROOF_PRIMARY_HOST port=5432 user=replicator application_name=$DBPROOF_NODE_NAME passfile=$RUN/pgpass"; }

mkdir -p /var/lib/dbproof "$RUN"
chown postgres:postgres /var/lib/dbproof "$RUN"
chmod 700 "$RUN"

if [ "$ROLE" = bake ]; then
  PGDATA="$BAKED"
  [ ! -e "$PGDATA" ] || fail "$PGDATA exists already"
  init_cluster
  provision "" ""
  rm -rf "$PGDATA/log" "$PGDATA/postmaster.opts"
  echo 1 > "$PRISTINE"
  echo "dbproof: baked a pristine data directory into $PGDATA"
  exit 0
fi

SOURCE=""
# The WAL archive, a directory of the run's own mounted from the host (the containers provider).
ARCHIVE=/var/lib/dbproof/archive
[ "$ROLE" != primary ] || [ ! -d "$ARCHIVE" ] || chown postgres:postgres "$ARCHIVE"
if [ "$ROLE" = restore ] && [ ! -s /var/lib/dbproof/data/PG_VERSION ]; then
  # A fresh node from the base backup mounted at /dbproof/backup; with DBPROOF_RECOVERY set it
  # replays the archive (restore_command and the target come as -c arguments).
  rm -rf "$BAKED" "$PRISTINE"
  PGDATA=/var/lib/dbproof/data
  if [ -n "${DBPROOF_RESTORE_FROM:-}" ]; then
    # pgBackRest's repository in the archive's mount; DBPROOF_RESTORE_FROM is its
    # `--config=… --stanza=…` (no password: the repository is a directory).
    command -v pgbackrest >/dev/null 2>&1 || fail "this image has no pgbackrest"
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    # shellcheck disable=SC2086 # two options, split on purpose
    as_postgres pgbackrest $DBPROOF_RESTORE_FROM --pg1-path="$PGDATA" restore || fail "pgbackrest restore failed"
  else
    [ -s /dbproof/backup/PG_VERSION ] || fail "no base backup at /dbproof/backup"
    cp -a /dbproof/backup "$PGDATA"
    chown -R postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
  fi
  write_hba
  [ -z "${DBPROOF_RECOVERY:-}" ] || { touch "$PGDATA/recovery.signal" && chown postgres:postgres "$PGDATA/recovery.signal"; }
  SOURCE="from a base backup${DBPROOF_RECOVERY:+ and the archive}"
fi
[ "$ROLE" != restore ] || PGDATA=/var/lib/dbproof/data
if [ -f "$PRISTINE" ]; then
  # The first start of a node from a baked image.
  if [ "$ROLE" = primary ]; then
    [ -n "$ADMIN_SECRET" ] && [ -n "$APP_SECRET" ] && [ -n "$REPLICATION_SECRET" ] || fail "set the admin, app and replication passwords (or verifiers)"
    write_hba
    set_passwords
    SOURCE="from the image's pristine data directory"
  elif [ "${DBPROOF_REPLICA_SOURCE:-}" = pristine ]; then
    # A copy of the data directory the primary starts from: it streams everything after it.
    install_passfile
    write_hba
    touch "$PGDATA/standby.signal"
    echo "primary_conninfo = '$(conninfo)'" >> "$PGDATA/postgresql.auto.conf"
    chown postgres:postgres "$PGDATA/standby.signal" "$PGDATA/postgresql.auto.conf"
    SOURCE="from the image's pristine data directory"
  else
    # The primary may have run for long: only a base backup is sure to match it.
    rm -rf "$BAKED"
    PGDATA=/var/lib/dbproof/data
  fi
  rm -f "$PRISTINE"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"
  if [ "$ROLE" = primary ]; then
    [ -n "$ADMIN_SECRET" ] && [ -n "$APP_SECRET" ] && [ -n "$REPLICATION_SECRET" ] || fail "set the admin, app and replication passwords (or verifiers)"
    printf '%s\n' "$ADMIN_SECRET" > "$RUN/pw"
    chown postgres "$RUN/pw"
    init_cluster "$RUN/pw"
    rm -f "$RUN/pw"
    write_hba
    provision "$APP_SECRET" "$REPLICATION_SECRET"
    SOURCE="initialised at start"
  else
    install_passfile
    until PGPASSFILE="$RUN/pgpass" as_postgres "$PGBIN/pg_isready" -q -h "$DBPROOF_PRIMARY_HOST" -p 5432 -U replicator; do sleep 0.1; done
    # -R writes standby.signal and a primary_conninfo with these parameters (application_name included).
    PGPASSFILE="$RUN/pgpass" as_postgres "$PGBIN/pg_basebackup" -D "$PGDATA" -X stream -R --no-sync -c fast -d "$(conninfo)"
    SOURCE="from a base backup of $DBPROOF_PRIMARY_HOST"
  fi
fi

echo "dbproof: starting postgres ($ROLE${SOURCE:+, $SOURCE})"
exec setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$PGDATA" \
  -c listen_addresses='*' -c unix_socket_directories="$RUN" "$@"
