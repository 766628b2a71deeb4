#!/usr/bin/env bash
# Starts and stops a local PostgreSQL server for the delivery history (tests
# and local runs), from Debian's `postgresql` package, on loopback.
#
#   postgres.sh up       install the package if no initdb is found (as root),
#                        create the cluster, role and database on first use,
#                        start, wait until it accepts connections; a running
#                        server is left alone
#   postgres.sh down     stop it (fast shutdown); nothing running is fine
#   postgres.sh status   print what runs and where its data lives
#   postgres.sh url      print the connection URL (HISTORY_POSTGRES_URL)
#   postgres.sh clean    down, then remove data, logs and the password
#   postgres.sh install  install the Debian package unless initdb is found
#
# Port: PG_PORT (15432), on 127.0.0.1 only; role and database `webhooks`,
# with a random password made on first use (kept in PG_RUN_DIR/password).
# The package's own cluster and service are never used.
#
# Where things live: PG_RUN_DIR (default .run/postgres in the repo) holds the
# password; the server's directory (cluster data in data/, the unix socket in
# socket/, the log postgres.log) is PG_RUN_DIR/server. PostgreSQL refuses to
# run as root, so as root the server runs as the `postgres` system user, which
# owns that directory. When that user cannot reach PG_RUN_DIR (a clone under
# /root, a private mktemp folder), the server's directory is
# /tmp/webhooks-postgres-<checksum of PG_RUN_DIR> instead; `status` prints it.
# PG_BIN_DIR overrides the binaries (default: the newest
# /usr/lib/postgresql/<version>/bin).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

run_dir="${PG_RUN_DIR:-$root/.run/postgres}"
port="${PG_PORT:-15432}"
timeout_s="${PG_TIMEOUT_SECONDS:-60}"
password_file="$run_dir/password"
role=webhooks
database=webhooks

log() { echo "postgres: $*"; }

as_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the user the server runs as: `postgres` when we are root,
# else ourselves. The working directory is / so that the postgres user does
# not trip over an unreadable current directory.
as_server_user() {
  if as_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

find_bin_dir() {
  if [ -n "${PG_BIN_DIR:-}" ]; then
    [ -x "$PG_BIN_DIR/initdb" ] && echo "$PG_BIN_DIR"
    return
  fi
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_package() {
  if find_bin_dir >/dev/null; then return 0; fi
  if ! as_root; then
    log "initdb not found under /usr/lib/postgresql/*/bin; install the Debian package 'postgresql' (as root: apt-get install postgresql) or set PG_BIN_DIR" >&2
    return 1
  fi
  log "installing the Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  # Installing must not start the package's own cluster: policy-rc.d answering
  # 101 tells invoke-rc.d to leave services alone (no-op where there is no init).
  local policy=/usr/sbin/policy-rc.d created_policy=no status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
  fi
  if ! apt-get install -y -qq postgresql >/dev/null 2>&1; then
    { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } || status=$?
  fi
  if [ "$created_policy" = yes ]; then rm -f "$policy"; fi
  [ "$status" -eq 0 ] || { log "apt-get install postgresql failed" >&2; return "$status"; }
  find_bin_dir >/dev/null || { log "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin" >&2; return 1; }
}

# The server's directory; see the header. PG_RUN_DIR is created first, for
# every command, so that up, down, status and url decide alike.
server_dir() {
  if as_root && ! runuser -u postgres -- test -x "$run_dir" 2>/dev/null; then
    echo "/tmp/webhooks-postgres-$(printf '%s' "$run_dir" | cksum | cut -d ' ' -f 1)"
  else
    echo "$run_dir/server"
  fi
}

mkdir -p "$run_dir"
server_dir="$(server_dir)"
data_dir="$server_dir/data"
socket_dir="$server_dir/socket"
log_file="$server_dir/postgres.log"

# The first line of postmaster.pid is the server's pid, the fourth its port.
server_pid() { sed -n 1p "$data_dir/postmaster.pid" 2>/dev/null; }
server_port() { sed -n 4p "$data_dir/postmaster.pid" 2>/dev/null; }

running() {
  local bin_dir
  [ -f "$data_dir/postmaster.pid" ] || return 1
  bin_dir="$(find_bin_dir)" || return 1
  as_server_user "$bin_dir/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

accepting() {
  "$1/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$database" -t 2
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

prepare_dirs() {
  # The socket directory is closed to everyone but the server's user, which is
  # what makes `trust` on the socket (pg_hba below) safe.
  if as_root; then
    install -d -m 0700 -o postgres -g postgres "$server_dir" "$socket_dir"
  else
    install -d -m 0700 "$server_dir" "$socket_dir"
  fi
  [ -s "$password_file" ] || (umask 077 && od -An -tx1 -N18 /dev/urandom | tr -d ' \n' >"$password_file")
}

init_cluster() {
  local bin_dir="$1"
  log "creating a cluster in $data_dir"
  as_server_user "$bin_dir/initdb" -D "$data_dir" -U postgres --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$server_dir/initdb.log" 2>&1 || {
    log "initdb failed; last lines of $server_dir/initdb.log:" >&2
    tail -n 40 "$server_dir/initdb.log" >&2 || true
    return 1
  }
  as_server_user tee -a "$data_dir/postgresql.conf" >/dev/null <<'CONF'

# deploy/local/postgres.sh: a throwaway server for local runs and tests.
# fsync, synchronous commit and full-page writes are off for a fast start
# and fast tests: a machine crash may lose the last writes, which tests and
# local runs can afford (the attempts topic stays the source of truth); never
# in production.
fsync = off
synchronous_commit = off
full_page_writes = off
# Port, address and socket directory are written on every start.
include_if_exists = 'listen.conf'
CONF
  # Passwords on TCP (loopback only); the unix socket (in a 0700 directory
  # only the server's user can reach) is trusted for setting up the role.
  as_server_user tee "$data_dir/pg_hba.conf" >/dev/null <<'HBA'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
HBA
}

start_server() {
  local bin_dir="$1"
  as_server_user tee "$data_dir/listen.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
unix_socket_permissions = 0700
CONF
  log "starting postgresql $("$bin_dir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
  # -l sends the server's output to the log, so a caller reading our stdout
  # is not held open by the server.
  if ! as_server_user "$bin_dir/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t "$timeout_s" >/dev/null; then
    log "did not start; last lines of $log_file:" >&2
    tail -n 40 "$log_file" >&2 || true
    return 1
  fi
}

wait_accepting() {
  local bin_dir="$1" deadline=$((SECONDS + timeout_s))
  until accepting "$bin_dir"; do
    if ! running; then
      log "exited before accepting connections; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "not accepting connections after ${timeout_s}s; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# Creates the role and database when missing and sets the role's password to
# the one in the password file, on every up: cheap, and it repairs a cluster
# whose first start-up was interrupted. The SQL goes on stdin, so the password
# is never on a command line.
ensure_role() {
  local bin_dir="$1" password
  password="$(cat "$password_file")"
  as_server_user "$bin_dir/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE $role' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')\gexec
ALTER ROLE $role WITH LOGIN CREATEDB PASSWORD '$password';
SELECT 'CREATE DATABASE $database OWNER $role' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')\gexec
SQL
}

up() {
  install_package
  local bin_dir
  bin_dir="$(find_bin_dir)"
  prepare_dirs
  if running; then
    if [ "$(server_port)" != "$port" ]; then
      log "already running (pid $(server_pid)) on port $(server_port), not $port; run down first or set PG_PORT=$(server_port)" >&2
      return 1
    fi
    log "already running (pid $(server_pid)) on 127.0.0.1:$port"
  else
    if port_in_use "$port"; then
      log "port $port is taken by another process; set PG_PORT or point HISTORY_POSTGRES_URL at that server" >&2
      return 1
    fi
    [ -f "$data_dir/PG_VERSION" ] || init_cluster "$bin_dir"
    start_server "$bin_dir"
  fi
  wait_accepting "$bin_dir"
  ensure_role "$bin_dir"
  log "ready: HISTORY_POSTGRES_URL=postgres://$role:***@127.0.0.1:$port/$database (data in $data_dir)"
}

down() {
  if ! running; then
    log "not running"
    return 0
  fi
  log "stopping (pid $(server_pid))"
  as_server_user "$(find_bin_dir)/pg_ctl" stop -D "$data_dir" -m fast -w -t "$timeout_s" >/dev/null
  log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status)
    if running; then log "running (pid $(server_pid)) on 127.0.0.1:$(server_port), data in $data_dir"; else log "stopped (data in $data_dir)"; fi
    ;;
  url)
    [ -s "$password_file" ] || { log "no password in $password_file; run $0 up first" >&2; exit 1; }
    echo "postgres://$role:$(cat "$password_file")@127.0.0.1:$port/$database"
    ;;
  clean)
    down
    rm -rf "$server_dir" "$run_dir"
    ;;
  install) install_package ;;
  *)
    echo "usage: $0 up|down|status|url|clean|install" >&2
    exit 2
    ;;
esac
