#!/usr/bin/env bash
# Validates every document of every YAML file under deploy/k8s against the
# Kubernetes API's definitions (custom resources, such as cert-manager's
# ClusterIssuer, against the fields k8s_manifests.mjs lists for them),
# strictly (unknown fields are errors), with
# no kubectl and no cluster: tests/lint/deploy/k8s_manifests.mjs, on npm
# packages pinned by tests/lint/deploy/package-lock.json. Before trusting
# a pass, it proves the check fails on broken copies: a misspelt field, a
# wrong type, a missing required field, bad YAML, a Service aimed at no
# port.
#
# Usage: bash tests/lint/k8s_manifests.sh deploy/k8s
# Exit 0 valid, 1 findings, 2 the tools could not be set up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:?usage: k8s_manifests.sh path/to/deploy/k8s}
[ -d "$dir" ] || { echo "k8s_manifests: no such directory: $dir" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=deploy/install.sh
source "$here/deploy/install.sh"
deploy_lint_install || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { node "$here/deploy/k8s_manifests.mjs" "$DEPLOY_LINT_MODULES" "$@"; }

# broken FILE SED-EXPR EXPECTED WHAT: the manifests with FILE edited by
# SED-EXPR must fail, saying EXPECTED.
broken() {
    local out
    rm -rf "$tmp/k8s"
    cp -r "$dir" "$tmp/k8s"
    sed -i "$2" "$tmp/k8s/$1"
    if cmp -s "$dir/$1" "$tmp/k8s/$1"; then
        echo "k8s_manifests: self-check '$4' did not change $1" >&2
        exit 1
    fi
    if out=$(check "$tmp/k8s" 2>&1) || ! grep -qF -- "$3" <<<"$out"; then
        echo "$out"
        echo "k8s_manifests: self-check failed: $4 should be refused ($3)" >&2
        exit 1
    fi
}
broken statefulset.yaml 's/imagePullPolicy: IfNotPresent/imagePulPolicy: IfNotPresent/' \
    'V1Container has no "imagePulPolicy"' "a misspelt container field"
broken statefulset.yaml 's/^\(            \)periodSeconds: 10/\1periodSecond: 10/' \
    'V1Probe has no "periodSecond"' "a misspelt probe field"
broken statefulset.yaml 's/^  replicas: 1/  replicas: one/' \
    'spec/replicas must be integer' "a string where the API wants an integer"
broken statefulset.yaml 's/^  selector:/  selektor:/' \
    'must have required property selector' "a missing required field"
broken services.yaml 's/targetPort: public/targetPort: pubic/' \
    'targetPort pubic is no container port' "a Service aimed at no port"
broken configmap.yaml 's/^data:/data:\n  - x/' 'YAML:' "broken YAML"
broken services.yaml 's/^  name: warden-api/  name: warden-api\n  namespace: prod/' \
    'namespace-less' "a namespace"
broken examples/acme-clusterissuer.yaml 's/privateKeySecretRef:/privateKeySecretRf:/' \
    'has no "privateKeySecretRf"' "a misspelt field of a custom resource"
broken examples/acme-clusterissuer.yaml 's/^    server: .*$/    server: 8444/' \
    'spec.acme.server must be string' "a custom resource's field of the wrong type"
echo "k8s_manifests: self-checks OK (broken copies are refused)"

if ! check "$dir"; then
    echo "k8s_manifests: FAILED" >&2
    exit 1
fi
echo "k8s_manifests: OK"
