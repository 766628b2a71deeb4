#!/usr/bin/env bash
# Starts and stops the local stack: a single-node KRaft Kafka broker and
# Apicurio Registry (Confluent-compatible API), both on loopback.
#
#   stack.sh up      fetch (if needed), start, wait until healthy; a running
#                    healthy stack is left alone
#   stack.sh down    stop both; nothing running is fine
#   stack.sh status  print what runs
#   stack.sh clean   down, then remove data and logs
#
# Ports: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), REGISTRY_PORT (18081).
# Logs, pids and data live in STACK_RUN_DIR (default .run/stack in the repo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${WEBHOOKS_CACHE_DIR:-$HOME/.cache/webhook-dispatcher}"
run_dir="${STACK_RUN_DIR:-$root/.run/stack}"
kafka_port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-19093}"
registry_port="${REGISTRY_PORT:-18081}"
timeout_s="${STACK_TIMEOUT_SECONDS:-120}"
node_bin="${NODE_BIN:-$root/.tools/bin/node}"
[ -x "$node_bin" ] || node_bin="node"

kafka_pid_file="$run_dir/kafka.pid"
registry_pid_file="$run_dir/registry.pid"

log() { echo "stack: $*"; }

pid_alive() {
  local file="$1" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

kafka_healthy() {
  "$node_bin" "$here/kafka-health.mjs" "127.0.0.1:$kafka_port" >/dev/null 2>&1
}

registry_healthy() {
  curl -sf -m 3 "http://127.0.0.1:$registry_port/apis/ccompat/v7/subjects" >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_healthy() {
  local name="$1" check="$2" pid_file="$3" log_file="$4" deadline=$((SECONDS + timeout_s))
  until "$check"; do
    if ! pid_alive "$pid_file"; then
      log "$name exited during start-up; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name not healthy after ${timeout_s}s; last lines of $log_file:" >&2
      tail -n 40 "$log_file" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  log "$name healthy"
}

start_kafka() {
  if pid_alive "$kafka_pid_file"; then
    if kafka_healthy; then log "kafka already running (pid $(cat "$kafka_pid_file")) on 127.0.0.1:$kafka_port"; return 0; fi
    wait_healthy kafka kafka_healthy "$kafka_pid_file" "$run_dir/kafka.log"
    return
  fi
  rm -f "$kafka_pid_file"
  if port_in_use "$kafka_port"; then
    log "port $kafka_port is taken by another process; set KAFKA_PORT or point KAFKA_BROKERS at that broker" >&2
    return 1
  fi
  local libs="$cache/kafka-$KAFKA_VERSION/libs" data="$run_dir/kafka-data" props="$run_dir/kafka.properties"
  mkdir -p "$data"
  sed -e "s|@KAFKA_PORT@|$kafka_port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@DATA_DIR@|$data|g" \
    "$here/kafka.properties" > "$props"
  sed -e "s|@LOG_FILE@|$run_dir/kafka.log|g" "$here/kafka-log4j2.properties" > "$run_dir/kafka-log4j2.properties"
  local java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC "-Dlog4j2.configurationFile=$run_dir/kafka-log4j2.properties")
  if [ ! -f "$data/meta.properties" ]; then
    log "formatting KRaft storage in $data"
    local cluster_id
    cluster_id="$(java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid)"
    java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format --standalone \
      -t "$cluster_id" -c "$props" >>"$run_dir/kafka.out" 2>&1
  fi
  log "starting kafka $KAFKA_VERSION on 127.0.0.1:$kafka_port"
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$props" >>"$run_dir/kafka.out" 2>&1 &
  echo $! > "$kafka_pid_file"
  wait_healthy kafka kafka_healthy "$kafka_pid_file" "$run_dir/kafka.out"
}

start_registry() {
  if pid_alive "$registry_pid_file"; then
    if registry_healthy; then log "registry already running (pid $(cat "$registry_pid_file")) on 127.0.0.1:$registry_port"; return 0; fi
    wait_healthy registry registry_healthy "$registry_pid_file" "$run_dir/registry.log"
    return
  fi
  rm -f "$registry_pid_file"
  if port_in_use "$registry_port"; then
    log "port $registry_port is taken by another process; set REGISTRY_PORT or point SCHEMA_REGISTRY_URL at that registry" >&2
    return 1
  fi
  local jar
  jar="$(ls "$cache/apicurio-$APICURIO_VERSION"/*-runner.jar)"
  log "starting apicurio registry $APICURIO_VERSION on 127.0.0.1:$registry_port"
  # Schemas live in an H2 file database so that a registry restart keeps the
  # ids that records in Kafka refer to.
  nohup java -Xms128m -Xmx512m \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$registry_port" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    "-Dapicurio.datasource.url=jdbc:h2:file:$run_dir/registry-data/registry;DB_CLOSE_ON_EXIT=FALSE" \
    -Dapicurio.datasource.username=sa -Dapicurio.datasource.password=sa \
    -Dquarkus.log.console.json=false \
    -jar "$jar" >>"$run_dir/registry.log" 2>&1 &
  echo $! > "$registry_pid_file"
  wait_healthy registry registry_healthy "$registry_pid_file" "$run_dir/registry.log"
}

# Apicurio starts with global compatibility NONE: a producer that
# auto-registers a schema before `make schemas-check` has set its subject's
# rule would leave that subject unchecked. BACKWARD globally (the rule
# schemas/README.md describes) covers every subject from the start; a
# subject-level setting still overrides it. Idempotent, so a running registry
# gets it too.
set_registry_compatibility() {
  local url="http://127.0.0.1:$registry_port/apis/ccompat/v7/config" answer
  answer="$(curl -sf -m 10 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data '{"compatibility":"BACKWARD"}' "$url")" || {
    log "could not set the registry's global compatibility to BACKWARD ($url)" >&2
    return 1
  }
  log "registry global compatibility: $answer"
}

stop_one() {
  local name="$1" pid_file="$2" pid
  if ! pid_alive "$pid_file"; then
    [ -f "$pid_file" ] && log "$name: removing stale pid file"
    rm -f "$pid_file"
    log "$name not running"
    return 0
  fi
  pid="$(cat "$pid_file")"
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30s; killing"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  up)
    mkdir -p "$run_dir"
    "$here/fetch.sh"
    start_kafka
    start_registry
    set_registry_compatibility
    log "ready: KAFKA_BROKERS=127.0.0.1:$kafka_port SCHEMA_REGISTRY_URL=http://127.0.0.1:$registry_port/apis/ccompat/v7"
    ;;
  down)
    stop_one registry "$registry_pid_file"
    stop_one kafka "$kafka_pid_file"
    ;;
  status)
    if pid_alive "$kafka_pid_file"; then log "kafka running (pid $(cat "$kafka_pid_file"))"; else log "kafka stopped"; fi
    if pid_alive "$registry_pid_file"; then log "registry running (pid $(cat "$registry_pid_file"))"; else log "registry stopped"; fi
    ;;
  clean)
    "$0" down
    rm -rf "$run_dir"
    ;;
  *)
    echo "usage: $0 up|down|status|clean" >&2
    exit 2
    ;;
esac
