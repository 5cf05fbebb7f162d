#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 (the integration and e2e tests need it).
# Start it if installed; install it with apt-get when we may; otherwise say exactly what to do.
# Then make sure the tests can log in: role kring, password kring, database kring_test.
set -euo pipefail

HOST=127.0.0.1
PORT=5432
TEST_ROLE=kring
TEST_DB=kring_test

if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"; else SUDO="none"; fi
as_root() { if [ "$SUDO" = none ]; then return 1; fi; $SUDO "$@"; }

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT"; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

instructions() {
  cat >&2 <<MSG
PostgreSQL is not running on $HOST:$PORT and this script cannot start it ($1).
Do one of these, then run make again:
  Debian/Ubuntu:  sudo apt-get install -y postgresql && sudo pg_ctlcluster \$(ls /etc/postgresql | head -1) main start
  macOS:          brew install postgresql@16 && brew services start postgresql@16
  Docker:         docker run -d --name kring-postgres -p 5432:5432 -e POSTGRES_USER=$TEST_ROLE \\
                    -e POSTGRES_PASSWORD=$TEST_ROLE -e POSTGRES_DB=$TEST_DB postgres:16
MSG
  exit 1
}

wait_ready() {
  local deadline=$((SECONDS + 30))
  until ready; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "postgres: not ready within 30 s" >&2; exit 1; }
    sleep 1
  done
}

start_cluster() {
  local version
  version=$(ls /etc/postgresql | sort -V | tail -1)
  echo "postgres: starting cluster $version/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || instructions "starting the cluster needs root"
}

if ready || { ! command -v pg_isready >/dev/null 2>&1 && port_open; }; then
  echo "postgres: running on $HOST:$PORT"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql)" ]; then
  start_cluster
  wait_ready
elif command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ]; then
  echo "postgres: installing postgresql with apt-get (once)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  ready || start_cluster
  wait_ready
else
  instructions "it is not installed, and apt-get as root is not available"
fi

# The tests' role and database (KRING_TEST_POSTGRES_URL; the Makefile points it at kring:kring@.../kring_test).
# Created through the postgres OS user (peer auth on a stock Debian install) when we may; a URL that names
# another server or role is the caller's to provide.
DEFAULT_URL="postgresql+psycopg2://$TEST_ROLE:$TEST_ROLE@$HOST:$PORT/$TEST_DB"
if [ -n "${KRING_TEST_POSTGRES_URL:-}" ] && [ "$KRING_TEST_POSTGRES_URL" != "$DEFAULT_URL" ]; then
  echo "postgres: tests use KRING_TEST_POSTGRES_URL as given"
  exit 0
fi
command -v psql >/dev/null 2>&1 || exit 0  # nothing to check with; the tests say so if it does not work

psql_admin() {
  if [ "$(id -un)" = postgres ]; then psql -X -q -v ON_ERROR_STOP=1 "$@"
  elif [ -z "$SUDO" ] && command -v runuser >/dev/null 2>&1; then runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"
  elif [ "$SUDO" = sudo ]; then sudo -n -u postgres psql -X -q -v ON_ERROR_STOP=1 "$@"
  else return 1; fi
}
role_works() {
  PGPASSWORD=$TEST_ROLE psql -X -q -h "$HOST" -p "$PORT" -U "$TEST_ROLE" -d "$TEST_DB" -tAc 'SELECT 1' >/dev/null 2>&1
}

if ! role_works && psql_admin -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
  echo "postgres: creating role $TEST_ROLE and database $TEST_DB for the tests"
  psql_admin -d postgres <<SQL
SELECT 'CREATE ROLE $TEST_ROLE LOGIN CREATEDB PASSWORD ''$TEST_ROLE'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_ROLE')\gexec
SELECT 'CREATE DATABASE $TEST_DB OWNER $TEST_ROLE'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$TEST_DB')\gexec
SQL
fi
if role_works; then
  echo "postgres: tests use $DEFAULT_URL"
else
  cat >&2 <<MSG
postgres: cannot log in as $TEST_ROLE to database $TEST_DB on $HOST:$PORT. Create them once:
  sudo -u postgres psql -c "CREATE ROLE $TEST_ROLE LOGIN CREATEDB PASSWORD '$TEST_ROLE'"
  sudo -u postgres psql -c "CREATE DATABASE $TEST_DB OWNER $TEST_ROLE"
or point KRING_TEST_POSTGRES_URL at a role that may create databases.
MSG
  exit 1
fi
