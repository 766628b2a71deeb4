#!/usr/bin/env bash
# Prints the path of jemalloc's shared library (Debian's libjemalloc2), the
# allocator the container image preloads (see the Dockerfile), installing
# the package first when it is missing and we are root. The benchmarks run
# the dispatcher with it, as the image does; without it they run on glibc's
# malloc and say so in their reports.
set -euo pipefail
find_lib () { find /usr/lib /usr/lib64 -name 'libjemalloc.so.2' 2>/dev/null | head -n 1; }
lib="$(find_lib)"
if [ -z "$lib" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null; } \
    || echo "jemalloc: apt-get install libjemalloc2 failed; benchmarks run on glibc's malloc" >&2
  lib="$(find_lib)"
fi
[ -n "$lib" ] && echo "$lib"
exit 0
