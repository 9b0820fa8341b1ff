#!/usr/bin/env bash
# Install from Debian 12 every package the build and the tests need
# (deploy/packages.txt, tests/packages.txt), and Node.js with npm where
# none is installed. Packages that ship a service (prometheus, for its
# promtool) must not start one: policy-rc.d refuses every start while
# apt runs, so nothing listens beyond what the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
placed=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# tests/apt-install.sh: start no service while installing\nexit 101\n' |
        sudo_if_needed tee "$policy" >/dev/null
    sudo_if_needed chmod 755 "$policy"
    placed=1
fi
cleanup() { if [ "$placed" = 1 ]; then sudo_if_needed rm -f "$policy"; fi; }
trap cleanup EXIT
sudo_if_needed apt-get update -qq
# shellcheck disable=SC2046
sudo_if_needed apt-get install -y -qq --no-install-recommends \
    $(grep -hv '^#' deploy/packages.txt tests/packages.txt)
# Node.js for the OpenAPI linter, the deploy lints and the browser test:
# Debian's only where none is installed (a Node with its own npm conflicts
# with Debian's npm package)
command -v npm >/dev/null ||
    sudo_if_needed apt-get install -y -qq --no-install-recommends nodejs npm
