#!/usr/bin/env bash
# Provides a Node.js >= 22.15 at .tools/bin/node (22.15 brought zstd to
# node:zlib, which reads and writes Kafka's zstd batches).
#
# Uses the node on PATH when it is new enough; otherwise installs the pinned
# Node 24 LTS from the npm registry's `node` package (which ships the official
# binary as a platform package) into the git-ignored .tools folder. Idempotent.
set -euo pipefail

NODE_MIN_MAJOR=22
NODE_MIN_MINOR=15
NODE_PINNED_VERSION="${NODE_PINNED_VERSION:-24.21.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

# Whether node $1 is at least NODE_MIN_MAJOR.NODE_MIN_MINOR.
new_enough() {
  "$1" -e "const [a, b] = process.versions.node.split('.').map(Number); process.exit(a > $NODE_MIN_MAJOR || (a === $NODE_MIN_MAJOR && b >= $NODE_MIN_MINOR) ? 0 : 1)" 2>/dev/null
}

if [ -x "$bin/node" ] && new_enough "$bin/node"; then
  exit 0
fi

system_node="$(command -v node || true)"
if [ -n "$system_node" ] && new_enough "$system_node"; then
  ln -sf "$system_node" "$bin/node"
  echo "toolchain: using $system_node ($("$system_node" --version))"
  exit 0
fi

command -v npm >/dev/null || { echo "toolchain: npm is required to install Node $NODE_PINNED_VERSION" >&2; exit 1; }
echo "toolchain: node on PATH is ${system_node:-missing} (too old or absent); installing Node $NODE_PINNED_VERSION from the npm registry into .tools"
install_dir="$tools/node-$NODE_PINNED_VERSION"
rm -rf "$install_dir"
mkdir -p "$install_dir"
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$install_dir" "node@$NODE_PINNED_VERSION" >/dev/null
installed="$install_dir/node_modules/node/bin/node"
[ -x "$installed" ] || installed="$install_dir/node_modules/.bin/node"
new_enough "$installed" || { echo "toolchain: installed node does not run" >&2; exit 1; }
ln -sf "$installed" "$bin/node"
echo "toolchain: installed $("$bin/node" --version) at $installed"
