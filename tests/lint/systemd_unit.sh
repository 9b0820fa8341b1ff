#!/usr/bin/env bash
# deploy/warden.service and the renewal units in deploy/renew/ must be
# units systemd accepts: run `systemd-analyze verify` on copies whose
# ExecStart points at the built binary and the repo's script (verify checks
# that the command exists), the templates as an instance. Also checks that
# the sandboxing a CA needs is there and stays there, and the readiness
# protocol the daemon speaks (Type=notify).
#
# Usage: systemd_unit.sh deploy/warden.service path/to/warden
# Exit 77 (skipped) only where systemd-analyze cannot verify even a
# trivial unit, e.g. a container without systemd's runtime.
set -euo pipefail
unit=$1
bin=$2
renew=$(cd "$(dirname "$unit")/renew" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v systemd-analyze >/dev/null; then
    echo "systemd unit: SKIPPED: systemd-analyze not installed (Debian: systemd)"
    exit 77
fi
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe.service"
if ! probe=$(systemd-analyze verify "$tmp/probe.service" 2>&1); then
    echo "$probe"
    echo "systemd unit: SKIPPED: systemd-analyze cannot verify a trivial unit here"
    exit 77
fi

# verify UNIT...: systemd-analyze must accept them without a word.
verify() {
    local out
    out=$(systemd-analyze verify "$@" 2>&1) || {
        echo "$out"
        echo "systemd-analyze verify failed: $*"
        exit 1
    }
    if [ -n "$out" ]; then
        echo "$out"
        echo "systemd-analyze verify complained: $*"
        exit 1
    fi
}

sed "s|/usr/local/bin/warden|$bin|" "$unit" >"$tmp/warden.service"
verify "$tmp/warden.service"
for directive in Type=notify NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes 'CapabilityBoundingSet=$' ReadWritePaths=/var/lib/warden User=warden \
    StateDirectory=warden; do
    grep -q "^$directive" "$unit" || { echo "missing: $directive"; exit 1; }
done
echo "systemd unit: warden.service OK"

sed "s|/usr/local/bin/warden-renew|$renew/warden-renew.sh|" "$renew/warden-renew@.service" \
    >"$tmp/warden-renew@example.service"
cp "$renew/warden-renew@.timer" "$tmp/warden-renew@example.timer"
verify "$tmp/warden-renew@example.service" "$tmp/warden-renew@example.timer"
for directive in Type=oneshot NoNewPrivileges=yes ProtectHome=yes PrivateTmp=yes \
    'EnvironmentFile=/etc/warden-renew/%i.env' 'Environment=WARDEN_RENEW_UNIT=%i.service'; do
    grep -q "^$directive" "$renew/warden-renew@.service" || { echo "missing: $directive"; exit 1; }
done
for directive in OnCalendar=daily 'RandomizedDelaySec=' Persistent=true; do
    grep -q "^$directive" "$renew/warden-renew@.timer" || { echo "missing: $directive"; exit 1; }
done
echo "systemd unit: warden-renew@.service, warden-renew@.timer OK"
