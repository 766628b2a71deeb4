# Entry points for people and CI. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
# Project-local Node (>= 22) first on PATH; see deploy/local/toolchain.sh.
export PATH := $(ROOT)/.tools/bin:$(ROOT)/node_modules/.bin:$(PATH)
export KAFKAJS_NO_PARTITIONER_WARNING := 1

# An existing Kafka and registry are used when both variables are set;
# otherwise the local stack under deploy/local/ is started.
USE_EXTERNAL_STACK := $(if $(and $(KAFKA_BROKERS),$(SCHEMA_REGISTRY_URL)),yes,)
export KAFKA_BROKERS ?= 127.0.0.1:$(or $(KAFKA_PORT),19092)
export SCHEMA_REGISTRY_URL ?= http://127.0.0.1:$(or $(REGISTRY_PORT),18081)/apis/ccompat/v7
STACK := $(if $(USE_EXTERNAL_STACK),,stack-up)
# Likewise the delivery-history tests use the PostgreSQL in
# HISTORY_POSTGRES_URL when it is set; otherwise deploy/local/postgres.sh
# starts one and `make test` passes its URL on.
POSTGRES := $(if $(HISTORY_POSTGRES_URL),,postgres-up)

.PHONY: help setup build typecheck lint docs openapi catalog chromium screenshots stack-up stack-down stack-status stack-clean postgres-up postgres-down schemas-check test test-unit dev simulate redrive prometheus python-tools bench bench-backlog bench-compression chaos clean dist image helm helm-sync kubeconform replay bench-replay

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: node_modules/.installed ## install Node (if the one on PATH is < 22) and npm dependencies

.tools/bin/node: deploy/local/toolchain.sh
	@deploy/local/toolchain.sh
	@touch $@

node_modules/.installed: package.json package-lock.json .tools/bin/node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: setup ## compile TypeScript to dist/ (the services, and the tenant portal's browser modules and files)
	npm run --silent build

typecheck: setup ## type-check everything, tests and the portal included
	tsc -p tsconfig.json
	tsc -p services/portal/tsconfig.json --noEmit

lint: setup ## eslint, and the layers of the code (dependency-cruiser: no upward import, no cycle)
	eslint --max-warnings=0 .
	depcruise services --config .dependency-cruiser.cjs

docs: build ## regenerate the README's error-code, exit-code and metric tables from the code (a unit test fails while they are stale)
	node dist/services/dispatcher/src/cli/docs.js README.md

openapi: build ## regenerate services/dispatcher/src/http/openapi.json from the admin API's routes (a unit test fails while it is stale)
	node dist/services/dispatcher/src/cli/openapi.js services/dispatcher/src/http/openapi.json

catalog: build ## regenerate the event catalog under docs/ from schemas/*.avsc (a unit test fails while it is stale)
	node dist/services/dispatcher/src/cli/catalog.js docs

stack-up: setup ## start local Kafka (KRaft) + Apicurio Registry on loopback
	deploy/local/stack.sh up

stack-down: ## stop the local stack and the local PostgreSQL
	deploy/local/postgres.sh down
	deploy/local/stack.sh down

stack-status: ## show what the local stack and the local PostgreSQL run
	deploy/local/stack.sh status
	deploy/local/postgres.sh status

stack-clean: ## stop the local stack and the local PostgreSQL, delete their data
	deploy/local/postgres.sh clean
	deploy/local/stack.sh clean

postgres-up: ## start local PostgreSQL (delivery history) on 127.0.0.1:15432 (PG_PORT); installs Debian's postgresql as root
	deploy/local/postgres.sh up

postgres-down: ## stop the local PostgreSQL
	deploy/local/postgres.sh down

schemas-check: build $(STACK) ## register every schema under BACKWARD compatibility
	node dist/services/events/src/cli/schemas-check.js

prometheus: ## install Prometheus + promtool (Debian package) for the observability tests
	deploy/local/prometheus.sh ensure

python-tools: ## Python venv in .tools/py: confluent-kafka (librdkafka) for the interoperability tests, schemathesis for the admin API fuzz test
	deploy/local/python-tools.sh

helm: ## build the pinned Helm CLI from the Go module proxy into .tools/bin (needs Go; minutes the first time)
	deploy/local/helm.sh ensure

kubeconform: setup ## build the pinned kubeconform and generate strict Kubernetes, KEDA and prometheus-operator schemas, all from the Go module proxy, into .tools/
	deploy/local/kubeconform.sh ensure

helm-sync: ## copy deploy/grafana and deploy/prometheus rules into the Helm chart, regenerate its values table and its webhook NetworkPolicy peers (from the SSRF table)
	deploy/local/helm.sh sync
	node deploy/helm/values-table.mjs
	node deploy/helm/webhook-peers.mjs

dist: build ## lay out the container image's /app in .run/dist-image (what the Dockerfile ships; no Docker needed)
	deploy/local/dist.sh

image: ## build the container image (needs a Docker engine)
	docker build -t webhook-dispatcher:$$(node -p 'require("./package.json").version') .

test: setup typecheck lint $(STACK) $(POSTGRES) schemas-check prometheus chromium helm kubeconform python-tools ## run every test (starts the local stack unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set, and PostgreSQL unless HISTORY_POSTGRES_URL is)
	@mkdir -p .run
	@rm -f .run/test-report.json
	@HISTORY_POSTGRES_URL="$${HISTORY_POSTGRES_URL:-$$(deploy/local/postgres.sh url)}"; export HISTORY_POSTGRES_URL; \
	vitest run; status=$$?; node test/support/print-summary.mjs .run/test-report.json; exit $$status

chromium: ## install Debian's chromium (as root) for the tenant portal's browser test; playwright-core drives it and downloads no browser
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

screenshots: build $(STACK) chromium ## regenerate the tenant portal's screenshots in docs/screenshots/ (the browser test, saving its pages)
	SCREENSHOTS_DIR=docs/screenshots vitest run test/e2e/portal-browser.test.ts

test-unit: setup ## unit tests only (no Kafka needed)
	vitest run test/unit

simulate: build $(STACK) ## run the core-banking simulator (ARGS="--rate 50 --count 1000")
	node dist/services/producer/src/cli/simulate.js $(ARGS)

dev: build $(STACK) ## run the system: local stack, dispatcher, demo receiver and simulator; webhooks print as they arrive
	deploy/local/dev.sh

redrive: build ## move dead letters back into the retry lanes (ARGS="--subscription ID --dry-run")
	node dist/services/dispatcher/src/cli/redrive.js $(ARGS)

replay: build ## start, follow, list or cancel a replay job (ARGS="start --endpoint ID --tenant T --since 2026-12-01T09:00Z --until 2026-12-02")
	node dist/services/dispatcher/src/cli/replay.js $(ARGS)

bench: setup $(STACK) $(POSTGRES) ## dispatcher vs a naive consumer vs the raw ceilings, side by side → bench/results.md; the delivery history's cost and indexing rate → bench/history.md; the SQLite index's insert cost as it grows and its event lookups → bench/history-index.md; an endpoint down: the others' rate and memory per parked delivery → bench/backlog.md
	tsc -p test/bench/tsconfig.json
	node dist/test/bench/run.js
	HISTORY_POSTGRES_URL="$${HISTORY_POSTGRES_URL:-$$(deploy/local/postgres.sh url)}" node dist/test/bench/history.js
	node dist/test/bench/history-index.js
	node dist/test/bench/backlog.js
	node dist/test/bench/targets.js

chaos: setup $(STACK) ## chaos suite, not part of make test: CHAOS_EVENTS (1,000,000) events while the dispatcher is killed, the broker restarted, an endpoint down → chaos/results.md
	tsc -p test/chaos/tsconfig.json
	node dist/test/chaos/main.js

bench-replay: setup $(STACK) ## live traffic to other endpoints with and without a 100,000-event replay, and the replay's scan rate → bench/replay.md
	tsc -p test/bench/tsconfig.json
	node dist/test/bench/replay.js

bench-backlog: setup $(STACK) ## healthy endpoints' rate with and without one endpoint down, and memory per parked delivery with BENCH_BACKLOG_EVENTS (1,000,000) parked → bench/backlog.md
	tsc -p test/bench/tsconfig.json
	node dist/test/bench/backlog.js

bench-compression: setup $(STACK) ## each Kafka codec side by side: events/s produced and consumed, bytes stored → bench/compression.md
	tsc -p test/bench/tsconfig.json
	node dist/test/bench/compression.js

clean: ## remove build output
	rm -rf dist .run/test-report.json
