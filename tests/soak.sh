#!/usr/bin/env bash
# Soak: a steady mixed load (issue, get, list, revoke, OCSP, CRL) against
# a real daemon for SOAK_MINUTES (default 10), printing the daemon's RSS
# every 10 s; fails if RSS at the end is more than 25% above RSS after the
# first minute (a leak grows linearly; caches settle within a minute).
# On demand, not part of CI: tests/soak.sh [path/to/warden]
set -euo pipefail
WARDEN=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/warden}
MINUTES=${SOAK_MINUTES:-10}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/warden-soak.XXXXXX")
D=$TMP/ca
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=127.0.0.1:$(port)
PUB=127.0.0.1:$(port)
"$WARDEN" init --dir "$D" >/dev/null 2>&1
"$WARDEN" serve --dir "$D" --listen "$API" --public-listen "$PUB" 2>"$TMP/serve.log" &
pid=$!
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
until curl -fsS "http://$PUB/healthz" >/dev/null 2>&1; do sleep 0.1; done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k" \
    -out "$TMP/c.csr" -subj /CN=soak.example 2>/dev/null
C=(--cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" -sS -o /dev/null)
end=$(($(date +%s) + MINUTES * 60))
for w in 1 2 3 4; do
    (
        i=0
        while [ "$(date +%s)" -lt "$end" ]; do
            s=$(curl "${C[@]/-o/}" --data-binary @"$TMP/c.csr" "https://$API/api/v1/certificates" 2>/dev/null |
                sed -n 's/.*"serial":"\([0-9a-f]*\)".*/\1/p') || true
            curl "${C[@]}" "https://$API/api/v1/certificates?limit=50" || true
            if [ -n "$s" ]; then
                curl "${C[@]}" "https://$API/api/v1/certificates/$s" || true
                [ $((i % 5)) -eq 0 ] && curl "${C[@]}" -X POST "https://$API/api/v1/certificates/$s/revoke" || true
            fi
            curl -sS -o /dev/null "http://$PUB/crl" || true
            i=$((i + 1))
        done
    ) &
    pids+=($!)
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
base=""
printf '%8s %10s\n' seconds rss_kib
for t in $(seq 10 10 $((MINUTES * 60))); do
    sleep 10
    r=$(rss)
    printf '%8s %10s\n' "$t" "$r"
    [ "$t" -eq 60 ] && base=$r
done
final=$(rss)
rows=$(sqlite3 "$D/warden.db" 'select count(*) from certificates')
echo "certificates issued: $rows; RSS after 1 min: ${base:-n/a} KiB; at the end: $final KiB"
if [ -n "$base" ] && [ "$final" -gt $((base * 125 / 100)) ]; then
    echo "FAIL: RSS grew by more than 25% after the first minute"
    exit 1
fi
echo "OK: RSS stayed flat"
