#!/usr/bin/env bash
# CRL build benchmark: Warden (`warden crl`, one streaming pass) against
# `openssl ca -gencrl` on the same revoked entries, signed by the same
# intermediate key, for 10k, 100k and 1M entries (override with
# SIZES="1000 5000"). Prints build time, peak RSS and size for both.
# On demand, not part of CI: loading a million rows takes a couple of
# minutes. Usage: tests/bench/crl_bench.sh [path/to/warden]
set -euo pipefail
WARDEN=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/warden}
SIZES=${SIZES:-"10000 100000 1000000"}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/warden-crl-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

peak_kb() { # run a command, print its peak RSS in KiB on stdout (via /proc)
    "$@" &
    local pid=$! peak=0 cur
    while kill -0 "$pid" 2>/dev/null; do
        cur=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${cur:-0}" -gt "$peak" ] && peak=$cur
        sleep 0.02
    done
    wait "$pid"
    echo "$peak"
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

printf '%-9s | %-28s | %-28s | %s\n' entries "warden crl: ms / MiB RSS / MB" \
    "openssl ca -gencrl: ms / MiB / MB" "speed-up"
for n in $SIZES; do
    d=$TMP/ca-$n
    "$WARDEN" init --dir "$d" >/dev/null 2>&1
    # n revoked rows: random 128-bit serials, like the daemon issues
    sqlite3 "$d/warden.db" <<SQL
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < $n)
INSERT INTO certificates (serial, der, subject, cn, sans, key_type, profile,
    requester, fingerprint, not_before, not_after, issued_at, revoked_at,
    revoke_reason)
SELECT lower(hex(randomblob(16))), x'3000', 'CN=bench', 'bench', '',
    'ecdsa-p256', 'server', 'bench', '', 0, strftime('%s','now') + 86400,
    0, strftime('%s','now') - 60, k % 6
FROM i;
COMMIT;
SQL
    # the same entries in an openssl ca database
    sqlite3 -separator $'\t' "$d/warden.db" \
        "select 'R', '491231235959Z', substr(strftime('%Y%m%d%H%M%S', revoked_at, 'unixepoch'), 3) || 'Z',
                upper(serial), 'unknown', '/CN=bench'
         from certificates where revoked_at is not null" >"$d/index.txt"
    cat >"$d/openssl.cnf" <<CNF
[ ca ]
default_ca = bench
[ bench ]
database = $d/index.txt
certificate = $d/intermediate.crt
private_key = $d/intermediate.key
default_md = sha256
default_crl_days = 1
crlnumber = $d/crlnumber
CNF
    echo 01 >"$d/crlnumber"
    # both tools start from a warm page cache
    cat "$d/warden.db" "$d/index.txt" >/dev/null
    t=$(date +%s%N)
    wkb=$(peak_kb "$WARDEN" crl --dir "$d" --out "$d/warden.crl" 2>/dev/null)
    wms=$(ms_since "$t")
    t=$(date +%s%N)
    okb=$(peak_kb openssl ca -gencrl -config "$d/openssl.cnf" -out "$d/openssl.crl" 2>/dev/null)
    oms=$(ms_since "$t")
    wn=$(openssl crl -in "$d/warden.crl" -inform DER -noout -text | grep -c 'Serial Number')
    [ "$wn" -eq "$n" ] || { echo "warden's CRL lists $wn entries, not $n" >&2; exit 1; }
    printf '%-9s | %8s ms %6s MiB %6s MB | %8s ms %6s MiB %6s MB | %sx\n' "$n" \
        "$wms" $((wkb / 1024)) "$(awk "BEGIN {printf \"%.1f\", $(stat -c %s "$d/warden.crl") / 1e6}")" \
        "$oms" $((okb / 1024)) "$(awk "BEGIN {printf \"%.1f\", $(stat -c %s "$d/openssl.crl") / 1e6}")" \
        "$(awk "BEGIN {printf \"%.1f\", $oms / ($wms > 0 ? $wms : 1)}")"
    rm -rf "$d"
done
