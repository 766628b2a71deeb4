#!/usr/bin/env bash
# Provides kubeconform and the strict schemas it checks the Helm chart's
# objects against, all from the Go module proxy (nothing else is downloaded,
# at build time or when the tests run):
#
#   kubeconform.sh ensure   build the pinned kubeconform into .tools/bin and
#                           generate the schemas into .tools/kube-schemas
#                           unless both are there for the pinned versions
#   kubeconform.sh path     print kubeconform's path and the schemas' folder
#
# Schemas (deploy/helm/kube-schemas.mjs converts them):
#   Kubernetes   api/openapi-spec/swagger.json of the k8s.io/kubernetes module
#   KEDA         config/crd/bases of github.com/kedacore/keda/v2
#   Prometheus   example/prometheus-operator-crd of
#   Operator     github.com/prometheus-operator/prometheus-operator
# KUBECONFORM_VERSION, KUBERNETES_VERSION, KEDA_VERSION and
# PROMETHEUS_OPERATOR_VERSION override the pins.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.31.14}"
# v2.21.1's go.mod asks for a Go newer than this machine's; the CRDs are the same.
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
PROMETHEUS_OPERATOR_VERSION="${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"

bin_dir="$root/.tools/bin"
kubeconform_bin="$bin_dir/kubeconform"
schemas_dir="$root/.tools/kube-schemas"
stamp="kubernetes $KUBERNETES_VERSION keda $KEDA_VERSION prometheus-operator $PROMETHEUS_OPERATOR_VERSION converter $(sha256sum "$root/deploy/helm/kube-schemas.mjs" | cut -c1-16)"

log() { echo "kubeconform: $*" >&2; }

# The folder a Go module is extracted to (downloaded through the module proxy).
module_dir() {
  local json dir
  json="$(go mod download -json "$1")"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [ -n "$dir" ] || { log "go mod download $1 gave no folder: $json"; return 1; }
  echo "$dir"
}

build() {
  if [ -x "$kubeconform_bin" ] && [ "$("$kubeconform_bin" -v 2>/dev/null)" = "$KUBECONFORM_VERSION" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is required to build kubeconform $KUBECONFORM_VERSION (go install from the Go module proxy)"; return 1; }
  mkdir -p "$bin_dir"
  log "building kubeconform $KUBECONFORM_VERSION into $bin_dir"
  # kubeconform prints the version its release build stamps into main.version.
  GOBIN="$bin_dir" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
}

schemas() {
  if [ "$(cat "$schemas_dir/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is required to download the API definitions (Go module proxy)"; return 1; }
  local kubernetes keda prometheus_operator
  log "generating schemas: Kubernetes $KUBERNETES_VERSION, KEDA $KEDA_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION"
  kubernetes="$(module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  keda="$(module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")"
  prometheus_operator="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  node "$root/deploy/helm/kube-schemas.mjs" "$schemas_dir" \
    --kubernetes "$kubernetes/api/openapi-spec/swagger.json" "$KUBERNETES_VERSION" \
    --crds "$keda/config/crd/bases" "$prometheus_operator/example/prometheus-operator-crd"
  echo "$stamp" > "$schemas_dir/.stamp"
}

case "${1:-}" in
  ensure) build; schemas; echo "$kubeconform_bin $schemas_dir" ;;
  path) echo "$kubeconform_bin $schemas_dir" ;;
  *) echo "usage: $0 ensure | path" >&2; exit 2 ;;
esac
