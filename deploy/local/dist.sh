#!/usr/bin/env bash
# `make dist`: lays out in a folder exactly what the container image's /app
# holds, so the image's contents can be run and tested without a Docker
# engine:
#
#   package.json    "type": "module" makes Node load dist/ as ES modules
#   node_modules/   production dependencies only (npm ci --omit=dev)
#   dist/services/  the compiled services (npm run build), source maps included
#   schemas/        the Avro schemas, read at run time by services/events
#
#   dist.sh [dir]   default dir: .run/dist-image; dist/ must be built (make build)
#
# The Dockerfile's runtime stage copies the same four entries and runs the same
# npm command; test/integration/packaging/ (dist.test.ts, dockerfile.test.ts)
# checks both. Only an empty folder or an earlier output is replaced.
# The production node_modules is cached per package-lock.json under
# .run/dist-cache/ (DIST_CACHE_DIR), so only a changed lockfile runs npm again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/.run/dist-image}"
cache_root="${DIST_CACHE_DIR:-$root/.run/dist-cache}"

log() { echo "dist: $*" >&2; }

[ -f "$root/dist/services/dispatcher/src/main.js" ] || { log "dist/ is not built; run make build (tsc -p tsconfig.build.json) first"; exit 1; }
command -v npm >/dev/null || { log "npm is required"; exit 1; }
# Only an empty folder or an earlier output of this script is replaced.
layout="dist node_modules package.json schemas"
if [ -e "$out" ] && [ ! -d "$out" ]; then log "refusing to replace $out: not a folder"; exit 1; fi
if [ -e "$out" ]; then
  existing="$(find "$out" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ' | sed 's/ $//')"
  if [ -n "$existing" ] && [ "$existing" != "$layout" ]; then
    log "refusing to replace $out: it holds something other than an earlier dist.sh output ($existing)"
    exit 1
  fi
fi

key="$(cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -c1-16)"
cached="$cache_root/$key/node_modules"

rm -rf "$out"
mkdir -p "$out"
cp "$root/package.json" "$root/package-lock.json" "$out/"

if [ -d "$cached" ]; then
  log "production node_modules from the cache ($key)"
  cp -a "$cached" "$out/node_modules"
else
  log "npm ci --omit=dev --ignore-scripts"
  (cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  # Keep one cached tree: older lockfiles' trees are only disk space.
  mkdir -p "$cache_root"
  find "$cache_root" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}' -exec rm -rf {} +
  mkdir -p "$cache_root/$key"
  cp -a "$out/node_modules" "$cached"
fi
# The lockfile was only needed for npm ci; the image does not carry it.
rm -f "$out/package-lock.json"

mkdir -p "$out/dist"
cp -R "$root/dist/services" "$out/dist/services"
cp -R "$root/schemas" "$out/schemas"

log "ready in ${out#"$root"/}: $(du -sh "$out" | cut -f1)"
echo "$out"
