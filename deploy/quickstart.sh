#!/usr/bin/env bash
# Install what Warden needs on Debian 12, build it, and start the daemon on
# the default data dir (./warden-data, or $WARDEN_DIR). On first start the
# daemon creates its CA and prints where the admin credentials are.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
sudo_if_needed apt-get update -qq
# shellcheck disable=SC2046
sudo_if_needed apt-get install -y -qq --no-install-recommends \
    $(grep -v '^#' deploy/packages.txt)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target warden
exec ./build/warden serve "$@"
