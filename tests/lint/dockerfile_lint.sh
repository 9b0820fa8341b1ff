#!/usr/bin/env bash
# Lints deploy/Dockerfile: with hadolint where it is installed (Debian 12
# has no package for it, and its npm wrapper downloads a binary, which our
# machines cannot), and always with tests/lint/deploy/dockerfile_lint.mjs:
# dockerfile-utils' validator (what Docker's builder refuses), hadolint's
# rules by their codes, shellcheck on each RUN, and what the CA's image
# needs (non-root USER, HEALTHCHECK, the data dir as a VOLUME, both ports).
# Before trusting a pass, it proves the check fails on broken copies.
#
# Usage: bash tests/lint/dockerfile_lint.sh deploy/Dockerfile
# Exit 0 clean, 1 findings, 2 the tools could not be set up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dockerfile=${1:?usage: dockerfile_lint.sh path/to/Dockerfile}
[ -f "$dockerfile" ] || { echo "dockerfile_lint: no such file: $dockerfile" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=deploy/install.sh
source "$here/deploy/install.sh"
deploy_lint_install || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

lint() { node "$here/deploy/dockerfile_lint.mjs" "$DEPLOY_LINT_MODULES" "$1"; }

# broken SED-EXPR CODE WHAT: a copy edited by SED-EXPR must fail with CODE.
broken() {
    local out
    sed "$1" "$dockerfile" >"$tmp/Dockerfile"
    if cmp -s "$dockerfile" "$tmp/Dockerfile"; then
        echo "dockerfile_lint: self-check '$3' did not change the Dockerfile" >&2
        exit 1
    fi
    if out=$(lint "$tmp/Dockerfile" 2>&1) || ! grep -q -- "$2" <<<"$out"; then
        echo "$out"
        echo "dockerfile_lint: self-check failed: $3 should be found ($2)" >&2
        exit 1
    fi
}
broken 's/^HEALTHCHECK --interval=/HEALTHCHECK --intervall=/' 'dockerfile-utils' "an unknown HEALTHCHECK flag"
broken 's/^EXPOSE 8443 8080/EXPOS 8443 8080/' 'dockerfile-utils' "an unknown instruction"
broken 's/^USER 10001:10001/USER root/' 'DL3002' "running as root"
broken '0,/^FROM debian:12-slim/s//FROM debian:latest/' 'DL3007' "the latest tag"
broken 's/install -y --no-install-recommends/install -y/' 'DL3015' "apt-get without --no-install-recommends"
broken 's/^VOLUME .*/VOLUME ["\/data"]/' 'the data dir' "a missing data volume"
if command -v shellcheck >/dev/null; then
    broken 's/&& rm -rf \/var\/lib\/apt\/lists\/\*/\&\& if [ -d x ]; then rm -rf \/var\/lib\/apt\/lists\/*/' \
        'shellcheck' "a shell syntax error in RUN"
fi
echo "dockerfile_lint: self-checks OK (broken copies are refused)"

status=0
if command -v hadolint >/dev/null; then
    echo "dockerfile_lint: $(hadolint --version)"
    hadolint "$dockerfile" || status=1
else
    echo "dockerfile_lint: hadolint not installed; dockerfile-utils, hadolint's rules and shellcheck instead"
fi
lint "$dockerfile" || status=1
if [ "$status" -ne 0 ]; then
    echo "dockerfile_lint: FAILED" >&2
    exit 1
fi
echo "dockerfile_lint: OK"
