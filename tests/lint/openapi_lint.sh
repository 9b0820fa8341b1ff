#!/usr/bin/env bash
# Lints the OpenAPI description with Redocly CLI (the "recommended" ruleset,
# see redocly.yaml beside this script). Fails on any lint error and prints
# the linter's report either way.
#
# Usage: bash tests/lint/openapi_lint.sh path/to/openapi.yaml
#
# Redocly CLI comes from the npm registry, pinned, into a cache directory
# (WARDEN_NPM_CACHE, default ~/.cache/warden-npm) on the first run; later
# runs reuse it and need no network.
set -euo pipefail

# 2.77.0 runs on Node.js >= 20.19 (20.x) or >= 22.12; later 2.x releases
# announce that they drop Node.js 20, which is what our machines have.
REDOCLY_VERSION=2.77.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
spec=${1:?usage: openapi_lint.sh path/to/openapi.yaml}
if [ ! -f "$spec" ]; then
    echo "openapi_lint: no such file: $spec" >&2
    exit 2
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "openapi_lint: $tool not found (tests/packages.txt lists nodejs)" >&2
        exit 2
    fi
done
if ! node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    process.exit((maj === 20 && min >= 19) || (maj === 22 && min >= 12) ||
                 maj > 22 ? 0 : 1);'; then
    echo "openapi_lint: @redocly/cli@$REDOCLY_VERSION needs Node.js" \
        ">= 20.19 or >= 22.12; this is $(node --version)" >&2
    exit 2
fi

cache=${WARDEN_NPM_CACHE:-${HOME:-/tmp}/.cache/warden-npm}
prefix=$cache/redocly-cli-$REDOCLY_VERSION
redocly=$prefix/node_modules/.bin/redocly

installed_version() {
    node -p "require(process.argv[1]).version" \
        "$prefix/node_modules/@redocly/cli/package.json" 2>/dev/null || true
}

if [ "$(installed_version)" != "$REDOCLY_VERSION" ] || [ ! -x "$redocly" ]; then
    echo "openapi_lint: installing @redocly/cli@$REDOCLY_VERSION into $prefix"
    mkdir -p "$cache"
    # Install beside the target and rename into place, so an interrupted or
    # concurrent run never leaves a half-installed copy that looks complete.
    tmp=$(mktemp -d "$prefix.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    npm install --no-audit --no-fund --loglevel=error --prefix "$tmp" \
        "@redocly/cli@$REDOCLY_VERSION"
    rm -rf "$prefix"
    if ! mv -T "$tmp" "$prefix" 2>/dev/null &&
        [ "$(installed_version)" != "$REDOCLY_VERSION" ]; then
        echo "openapi_lint: could not move the install into $prefix" >&2
        exit 2
    fi
fi

# Only the npm registry is reachable from our machines: no telemetry, no
# update check.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

echo "openapi_lint: redocly $REDOCLY_VERSION lint $spec"
status=0
"$redocly" lint --config "$here/redocly.yaml" "$spec" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    echo "openapi_lint: FAILED (redocly exit status $status)" >&2
    exit 1
fi
echo "openapi_lint: OK"
