#!/usr/bin/env bash
# Provides the Helm CLI for the chart under deploy/helm/ and keeps the chart's
# copies of the dashboards and alert rules in step with deploy/.
#
#   helm.sh ensure   build the pinned Helm from the Go module proxy into
#                    .tools/bin/helm unless it is there already (needs Go);
#                    print its path
#   helm.sh path     print its path, install nothing (fails with a hint when
#                    it is missing)
#   helm.sh sync     copy deploy/grafana/*.json and deploy/prometheus/*-rules.yml
#                    into the chart's files/ (Helm reads only files inside the
#                    chart directory); a test checks they are byte-identical
#   helm.sh check    exit 1 naming the files when the chart's copies differ
#
# HELM_VERSION overrides the pin; HELM_BIN points at another helm binary.
# The first build compiles Helm and its dependencies: a few minutes on 2
# cores; the Go module and build caches make later builds fast.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
bin_dir="$root/.tools/bin"
helm_bin="${HELM_BIN:-$bin_dir/helm}"
chart_dir="$root/deploy/helm/webhook-dispatcher"
files_dir="$chart_dir/files"

log() { echo "helm: $*" >&2; }

# The version the binary reports; only a stamped build (below) says v3.x.y.
installed_version() {
  "$helm_bin" version --template '{{.Version}}' 2>/dev/null || true
}

ensure() {
  if [ -x "$helm_bin" ]; then
    if [ -n "${HELM_BIN:-}" ] || [ "$(installed_version)" = "$HELM_VERSION" ]; then
      echo "$helm_bin"
      return 0
    fi
    log "found $(installed_version) at $helm_bin; want $HELM_VERSION, rebuilding"
  fi
  command -v go >/dev/null || { log "Go is required to build Helm $HELM_VERSION (go install from the Go module proxy)"; return 1; }
  mkdir -p "$bin_dir"
  log "building Helm $HELM_VERSION with $(go version | awk '{print $3}') into $bin_dir (the first build takes minutes)"
  local started=$SECONDS gomod k8s_minor ldflags
  # Stamp what Helm's release Makefile stamps: its version, and the Kubernetes
  # version of its client-go (without it `helm template` and `helm lint`
  # assume Kubernetes 1.20 for .Capabilities.KubeVersion and deprecations).
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n 1)"
  [ -n "$k8s_minor" ] || { log "cannot read the client-go version from $gomod"; return 1; }
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
  done
  # CGO off: a static binary that needs no C toolchain.
  GOBIN="$bin_dir" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "built $("$helm_bin" version --short) (Kubernetes 1.$k8s_minor) in $((SECONDS - started)) s"
  echo "$helm_bin"
}

path() {
  [ -x "$helm_bin" ] || { log "no helm at $helm_bin; run deploy/local/helm.sh ensure"; return 1; }
  echo "$helm_bin"
}

# Pairs "source destination" of the files the chart ships.
sources() {
  local f
  for f in "$root"/deploy/grafana/*.json; do echo "$f $files_dir/dashboards/$(basename "$f")"; done
  for f in "$root"/deploy/prometheus/*-rules.yml; do echo "$f $files_dir/prometheus/$(basename "$f")"; done
}

sync() {
  rm -rf "$files_dir/dashboards" "$files_dir/prometheus"
  mkdir -p "$files_dir/dashboards" "$files_dir/prometheus"
  local src dst
  while read -r src dst; do cp "$src" "$dst"; log "synced ${dst#"$root"/}"; done < <(sources)
}

check() {
  local src dst stale=0 expected actual
  while read -r src dst; do
    if ! cmp -s "$src" "$dst"; then log "${dst#"$root"/} differs from ${src#"$root"/}"; stale=1; fi
  done < <(sources)
  # Files in the chart that no longer exist in deploy/.
  expected="$(sources | awk '{print $2}' | sort)"
  actual="$(find "$files_dir/dashboards" "$files_dir/prometheus" -type f 2>/dev/null | sort)"
  if [ "$expected" != "$actual" ]; then log "the chart's files/ do not match deploy/: extra or missing files"; stale=1; fi
  [ "$stale" -eq 0 ] || { log "run deploy/local/helm.sh sync"; return 1; }
}

case "${1:-}" in
  ensure) ensure ;;
  path) path ;;
  sync) sync ;;
  check) check ;;
  *) echo "usage: $0 ensure | path | sync | check" >&2; exit 2 ;;
esac
