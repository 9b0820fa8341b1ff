#!/usr/bin/env bash
# deploy/warden.service must be a unit systemd accepts: run
# `systemd-analyze verify` on a copy whose ExecStart points at the built
# binary (verify checks that the command exists). Also checks that the
# sandboxing a CA needs is there and stays there.
set -euo pipefail
unit=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/warden|$bin|" "$unit" >"$tmp/warden.service"
out=$(systemd-analyze verify "$tmp/warden.service" 2>&1) || {
    echo "$out"
    echo "systemd-analyze verify failed"
    exit 1
}
if [ -n "$out" ]; then
    echo "$out"
    echo "systemd-analyze verify complained"
    exit 1
fi
for directive in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes 'CapabilityBoundingSet=$' ReadWritePaths=/var/lib/warden User=warden; do
    grep -q "^$directive" "$unit" || { echo "missing: $directive"; exit 1; }
done
echo "systemd unit: OK"
