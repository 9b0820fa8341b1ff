# shellcheck shell=bash
# Source this: deploy_lint_install puts the npm tools that package.json and
# package-lock.json beside this file pin (exact versions, integrity hashes)
# into a cache dir and sets DEPLOY_LINT_MODULES to their node_modules.
# The cache is keyed by the lock file's hash: WARDEN_NPM_CACHE (default
# ~/.cache/warden-npm)/deploy-lint-<hash>. The first run needs the npm
# registry; later runs reuse the install and need no network. Returns 2
# (with a message) when node or npm is missing or the install fails.
DEPLOY_LINT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

deploy_lint_install() {
    local tool cache hash prefix tmp
    for tool in node npm sha256sum; do
        if ! command -v "$tool" >/dev/null; then
            echo "deploy-lint: $tool not found (tests/packages.txt lists nodejs)" >&2
            return 2
        fi
    done
    cache=${WARDEN_NPM_CACHE:-${HOME:-/tmp}/.cache/warden-npm}
    hash=$(cat "$DEPLOY_LINT_DIR/package.json" "$DEPLOY_LINT_DIR/package-lock.json" |
        sha256sum | cut -c1-16)
    prefix=$cache/deploy-lint-$hash
    if [ ! -e "$prefix/.complete" ]; then
        echo "deploy-lint: installing the pinned tools into $prefix"
        mkdir -p "$cache"
        # Install beside the target and rename into place, so an
        # interrupted or concurrent run never leaves a half install that
        # looks complete.
        tmp=$(mktemp -d "$prefix.tmp.XXXXXX")
        cp "$DEPLOY_LINT_DIR/package.json" "$DEPLOY_LINT_DIR/package-lock.json" "$tmp/"
        if ! (cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); then
            rm -rf "$tmp"
            echo "deploy-lint: npm ci failed" >&2
            return 2
        fi
        touch "$tmp/.complete"
        if ! mv -T "$tmp" "$prefix" 2>/dev/null; then
            rm -rf "$tmp" # another run got there first
            [ -e "$prefix/.complete" ] || {
                echo "deploy-lint: could not move the install into $prefix" >&2
                return 2
            }
        fi
    fi
    export DEPLOY_LINT_MODULES=$prefix/node_modules
}
