# syntax=docker/dockerfile:1
# The webhook dispatcher's container image. One image runs every service:
#
#   dispatcher     (default)  node dist/services/dispatcher/src/main.js
#   redrive CLI               node dist/services/dispatcher/src/cli/redrive.js --help
#   demo receiver             node dist/services/demo-receiver/src/main.js
#
#   docker build -t webhook-dispatcher:0.1.0 .
#
# /app holds exactly what `make dist` (deploy/local/dist.sh) lays out in
# .run/dist-image, where tests run it without a Docker engine: package.json,
# production node_modules, dist/services and schemas/.
#
# The process runs as uid/gid 10001 (numeric, so Kubernetes' runAsNonRoot can
# verify it), owns none of its files, and writes nothing outside /tmp: it runs
# with a read-only root filesystem.
ARG NODE_IMAGE=node:24-slim

# Production dependencies only. Its own stage so that the layer is rebuilt
# when the lockfile changes, not when the sources do. No install scripts: no
# production dependency needs one, and none then runs at build time.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# Compile TypeScript with the full dependency set (typescript is a devDependency).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: a process that is PID 1 gets no default signal actions, so
# Node as PID 1 ignores SIGTERM until it has a handler — and the dispatcher
# installs its handler only after connecting to Kafka, creating topics and
# loading the subscriptions topic. Under tini, a SIGTERM in that phase ends the
# process at once instead of after the whole grace period; once the handler is
# installed tini forwards SIGTERM and the dispatcher drains, commits and exits
# 0. tini also reaps zombies and passes the exit code on (78 = bad config).
# The package managers the base image ships are not needed at run time: out
# they go, with what image scanners would report in them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libjemalloc2 \
 && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2 \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
# jemalloc rather than glibc's malloc: after a burst (a backlog of an
# endpoint's deliveries parked at once) glibc kept the freed space of Kafka's
# buffers resident between long-lived blocks, in every thread's arena;
# jemalloc returns it (a background thread decays unused pages). With
# 1,000,000 deliveries parked: 495 MiB RSS against 686 MiB after a full
# collection (bench/backlog.md). The benchmarks preload it the same way.
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
ENV MALLOC_CONF=background_thread:true
# The embedded delivery-history index is a cache of the attempts topic,
# rebuilt when missing: under /tmp, the one writable place (mount a volume
# there, or set HISTORY_SQLITE_PATH, to keep it across restarts).
ENV HISTORY_SQLITE_PATH=/tmp/webhook-dispatcher/history.sqlite
WORKDIR /app
# Root-owned and not writable by the runtime user.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/services ./dist/services
COPY schemas ./schemas
USER 10001:10001
# 8080: admin API (ADMIN_PORT; set ADMIN_HOST=0.0.0.0 to reach it from outside
# the container). 9464: /healthz, /readyz, /metrics (HTTP_PORT).
EXPOSE 8080 9464
# For docker and compose; Kubernetes uses the chart's probes instead.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || '9464') + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/services/dispatcher/src/main.js"]
