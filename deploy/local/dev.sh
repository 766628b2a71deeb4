#!/usr/bin/env bash
# `make dev`: the whole system on this machine, so signed webhooks visibly
# flow. Expects the local stack up and dist/ built (make does both).
#
#   demo receiver  127.0.0.1:18088  verifies signatures, prints each webhook
#   simulator      core-banking events of every family into banking.account-events.v1 (creates it)
#   dispatcher     consumes, matches, signs, delivers; metrics on :9464
#
# Ctrl-C stops all three (the dispatcher drains and commits first).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
run_dir="$root/.run/dev"
mkdir -p "$run_dir"

export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:19092}"
export SCHEMA_REGISTRY_URL="${SCHEMA_REGISTRY_URL:-http://127.0.0.1:18081/apis/ccompat/v7}"
export KAFKAJS_NO_PARTITIONER_WARNING=1
# kafkajs computes some timers from a clock that can run negative on a fresh
# connection; Node then warns (TimeoutNegativeWarning) and uses 1 ms, which is
# what kafkajs means. The node processes started here print nothing for it.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=TimeoutNegativeWarning"
receiver_port="${DEMO_RECEIVER_PORT:-18088}"
rate="${DEV_RATE:-20}"

# One secret for the demo endpoint, kept between runs so a restarted
# receiver still verifies webhooks signed a moment ago.
secret_file="$run_dir/webhook-secret"
[ -s "$secret_file" ] || node -e "process.stdout.write('whsec_' + require('node:crypto').randomBytes(32).toString('base64'))" > "$secret_file"
secret="$(cat "$secret_file")"
# The key that encrypts endpoint secrets at rest in the subscriptions topic.
key_file="$run_dir/secrets-key"
[ -s "$key_file" ] || node -e "process.stdout.write('dev:' + require('node:crypto').randomBytes(32).toString('base64'))" > "$key_file"
export SECRETS_ENCRYPTION_KEYS="$(cat "$key_file")"
# A token for trying the admin API: curl -H "authorization: Bearer $(cat .run/dev/admin-token)" localhost:8080/v1/endpoints
token_file="$run_dir/admin-token"
[ -s "$token_file" ] || node -e "process.stdout.write(require('node:crypto').randomBytes(24).toString('base64url'))" > "$token_file"
export ADMIN_TOKENS="$(cat "$token_file"):*"
# The key that signs tenant portal links and sessions.
portal_key_file="$run_dir/portal-key"
[ -s "$portal_key_file" ] || node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64'))" > "$portal_key_file"
export PORTAL_SESSION_KEY="$(cat "$portal_key_file")"

cat > "$run_dir/subscriptions.json" <<JSON
{
  "subscriptions": [
    { "id": "dev-tenant-001-all", "tenantId": "tenant-001", "url": "http://127.0.0.1:$receiver_port/webhooks/tenant-001", "eventTypes": ["*"], "secrets": ["$secret"], "description": "every event of tenant-001" },
    { "id": "dev-tenant-002-tx", "tenantId": "tenant-002", "url": "http://127.0.0.1:$receiver_port/webhooks/tenant-002", "eventTypes": ["transaction.*", "fraud_alert.raised"], "secrets": ["$secret"], "description": "tenant-002 transactions and fraud alerts" }
  ]
}
JSON

pids=()
link_pid=
cleanup() {
  trap - INT TERM EXIT
  [ -z "$link_pid" ] || kill "$link_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
# Ctrl-C (or a TERM) is how `make dev` is meant to end: stop the three, then
# exit 0. Returning from the trap instead would let `wait -n` below fail with
# 130, and make report "Error 130".
stop() {
  cleanup
  echo "dev: stopped" >&2
  exit 0
}
trap stop INT TERM
trap cleanup EXIT

PORT="$receiver_port" WEBHOOK_SECRET="$secret" node dist/services/demo-receiver/src/main.js &
pids+=($!)

node dist/services/producer/src/cli/simulate.js --tenants 3 --accounts 50 --rate "$rate" ${SIMULATOR_ARGS:-} 2> >(sed 's/^/[simulator] /' >&2) >/dev/null &
pids+=($!)

# The dispatcher refuses to start without its source topics; the simulator
# creates them within a second or two.
for _ in $(seq 1 60); do
  if node deploy/local/topics-exist.mjs banking.account-events.v1; then break; fi
  sleep 0.5
done

SUBSCRIPTIONS_FILE="$run_dir/subscriptions.json" TOPIC_REPLICATION_FACTOR=1 \
  SSRF_ALLOW_CIDRS=127.0.0.0/8 ALLOW_HTTP=true \
  HTTP_HOST=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-warn}" HISTORY_SQLITE_PATH="$run_dir/history.sqlite" \
  node dist/services/dispatcher/src/main.js &
pids+=($!)

# A portal link for the demo tenant, once the admin API answers (the link is
# good for PORTAL_LINK_TTL_SECONDS and one sign-in; mint another with the same call).
(
  for _ in $(seq 1 120); do
    link="$(curl -fsS -X POST -H "authorization: Bearer $(cat "$token_file")" -H 'content-type: application/json' \
      --data '{"tenantId":"tenant-001"}' "http://127.0.0.1:${ADMIN_PORT:-8080}/v1/portal-sessions" 2>/dev/null \
      | node -e "let s='';process.stdin.on('data',(c)=>{s+=c}).on('end',()=>{try{process.stdout.write(JSON.parse(s).url)}catch{}})")" || true
    if [ -n "$link" ]; then echo "dev: tenant portal for tenant-001 (one sign-in, 10 min): $link" >&2; exit 0; fi
    sleep 1
  done
) &
link_pid=$!

echo "dev: demo receiver on http://127.0.0.1:$receiver_port, dispatcher metrics on http://127.0.0.1:9464/metrics; Ctrl-C to stop" >&2
echo "dev: delivery history: curl -H \"authorization: Bearer \$(cat $token_file)\" 'http://127.0.0.1:${ADMIN_PORT:-8080}/v1/endpoints/dev-tenant-001-all/attempts?limit=5'" >&2
wait -n "${pids[@]}"
