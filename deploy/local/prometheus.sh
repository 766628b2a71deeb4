#!/usr/bin/env bash
# A local Prometheus for the observability tests: the Debian package provides
# `prometheus` and `promtool` (2.42 on bookworm). The package's systemd service
# is never used; `start` runs the binary directly on loopback with its own
# data directory, so it neither needs nor touches a system Prometheus.
#
#   prometheus.sh ensure                          install the package unless promtool is on PATH;
#                                                 print where both binaries are
#   prometheus.sh paths                           print where both binaries are, install nothing
#                                                 (fails with a hint when they are missing)
#   prometheus.sh start <config> <port> <datadir> start on 127.0.0.1:<port>, wait until ready;
#                                                 the pid goes to <datadir>/prometheus.pid
#   prometheus.sh stop <datadir>                  stop the one started with that data directory
#
# PROMETHEUS_BIN / PROMTOOL_BIN override the binaries (e.g. an upstream release).
set -euo pipefail

log() { echo "prometheus: $*"; }

find_bin() {
  local name="$1" override="$2"
  if [ -n "$override" ]; then [ -x "$override" ] && echo "$override"; return; fi
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  # Debian installs into /usr/bin, which a trimmed PATH may lack.
  if [ -x "/usr/bin/$name" ]; then echo "/usr/bin/$name"; return 0; fi
  return 1
}

ensure() {
  if ! find_bin promtool "${PROMTOOL_BIN:-}" >/dev/null || ! find_bin prometheus "${PROMETHEUS_BIN:-}" >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      log "promtool/prometheus not found; install the Debian package 'prometheus' (as root: apt-get install prometheus)" >&2
      return 1
    fi
    log "installing the Debian package prometheus"
    export DEBIAN_FRONTEND=noninteractive
    # Installing must not start the packaged service: policy-rc.d answering 101
    # tells invoke-rc.d to leave services alone (no-op where there is no init).
    local policy=/usr/sbin/policy-rc.d created_policy=no
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
    fi
    local status=0
    if ! apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
      apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null || status=$?
    fi
    if [ "$created_policy" = yes ]; then rm -f "$policy"; fi
    [ "$status" -eq 0 ] || { log "apt-get install prometheus failed" >&2; return "$status"; }
  fi
  paths
}

paths() {
  local prometheus promtool
  if ! prometheus="$(find_bin prometheus "${PROMETHEUS_BIN:-}")" || ! promtool="$(find_bin promtool "${PROMTOOL_BIN:-}")"; then
    log "prometheus/promtool not found; run deploy/local/prometheus.sh ensure (installs the Debian package prometheus)" >&2
    return 1
  fi
  echo "prometheus=$prometheus"
  echo "promtool=$promtool"
  "$promtool" --version 2>&1 | head -n 1
}

ready() {
  curl -sf -m 2 "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1
}

start() {
  local config="$1" port="$2" data_dir="$3"
  local prometheus pid_file="$data_dir/prometheus.pid" log_file="$data_dir/prometheus.log"
  prometheus="$(find_bin prometheus "${PROMETHEUS_BIN:-}")" || { log "prometheus not found; run $0 ensure" >&2; return 1; }
  mkdir -p "$data_dir"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    log "already running (pid $(cat "$pid_file"))"
    return 0
  fi
  "$prometheus" \
    --config.file="$config" \
    --storage.tsdb.path="$data_dir/tsdb" \
    --web.listen-address="127.0.0.1:$port" \
    --web.enable-lifecycle \
    --log.level=warn \
    >"$log_file" 2>&1 &
  echo $! >"$pid_file"
  local deadline=$((SECONDS + ${PROMETHEUS_TIMEOUT_SECONDS:-30}))
  until ready "$port"; do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      log "exited during start-up; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "not ready after ${PROMETHEUS_TIMEOUT_SECONDS:-30}s; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "ready on 127.0.0.1:$port (pid $(cat "$pid_file"))"
}

stop() {
  local data_dir="$1" pid_file="$1/prometheus.pid" pid
  [ -f "$pid_file" ] || { log "not running"; return 0; }
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pid_file"
  log "stopped"
}

case "${1:-}" in
  ensure) ensure ;;
  paths) paths ;;
  start)
    [ $# -eq 4 ] || { echo "usage: $0 start <config> <port> <datadir>" >&2; exit 2; }
    start "$2" "$3" "$4" ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop <datadir>" >&2; exit 2; }
    stop "$2" ;;
  *) echo "usage: $0 ensure | paths | start <config> <port> <datadir> | stop <datadir>" >&2; exit 2 ;;
esac
