#!/usr/bin/env bash
# Provides a Node.js >= 22 at .tools/bin/node.
#
# Uses the node on PATH when it is new enough; otherwise installs the pinned
# Node 24 LTS from the npm registry's `node` package (which ships the official
# binary as a platform package) into the git-ignored .tools folder. Idempotent.
set -euo pipefail

NODE_MIN_MAJOR=22
NODE_PINNED_VERSION="${NODE_PINNED_VERSION:-24.21.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$bin/node" ] && [ "$(major_of "$bin/node")" -ge "$NODE_MIN_MAJOR" ]; then
  exit 0
fi

system_node="$(command -v node || true)"
if [ -n "$system_node" ] && [ "$(major_of "$system_node")" -ge "$NODE_MIN_MAJOR" ]; then
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
[ "$(major_of "$installed")" -ge "$NODE_MIN_MAJOR" ] || { echo "toolchain: installed node does not run" >&2; exit 1; }
ln -sf "$installed" "$bin/node"
echo "toolchain: installed $("$bin/node" --version) at $installed"
