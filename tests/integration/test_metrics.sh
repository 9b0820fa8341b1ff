#!/usr/bin/env bash
# /metrics after real traffic: promtool accepts the exposition before and
# after, and the numbers move with what happened: issuance by profile,
# revocation by reason, requests by route and status (refusals included),
# latency histograms, signing, OCSP cache hits and misses, the CRL, the
# inventory's gauges and the database's size.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
PUB="http://$WD_PUB"
PROMTOOL=${PROMTOOL:-$(command -v promtool)}
if [ -z "$PROMTOOL" ]; then
    fail "promtool is installed (Debian package prometheus)"
    wd_finish
    exit
fi

scrape() { curl -sS -D "$1.h" "$PUB/metrics" -o "$1.txt"; }
# value FILE SERIES: the sample of exactly that series, or empty
value() { awk -v s="$2" '$1 == s { print $2 }' "$1.txt"; }
promtool_ok() {
    local out
    out=$("$PROMTOOL" check metrics <"$1.txt" 2>&1) && pass "promtool check metrics accepts $2" ||
        fail "promtool check metrics accepts $2: ${out:0:400}"
}
issue() { # issue NAME PROFILE -> NAME.crt; prints the serial
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1.svc.internal" 2>/dev/null
    jq -n --rawfile csr "$1.csr" --arg p "$2" '{csr: $csr, profile: $p}' >"$1.json"
    wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @"$1.json" \
        "$API/certificates" | sed '$d' >"$1.out"
    jq -r .certificate "$1.out" >"$1.crt"
    jq -r .serial "$1.out"
}
ocsp() { # ocsp CERT: one request without a nonce (cacheable)
    openssl ocsp -no_nonce -issuer "$D/intermediate.crt" -cert "$1" -url "$PUB/ocsp" \
        -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1
}

scrape m0
expect_match '^Content-Type: text/plain; version=0.0.4; charset=utf-8$' "$(tr -d '\r' <m0.h)" \
    "/metrics is the Prometheus text format 0.0.4"
promtool_ok m0 "the first scrape"
expect_eq 0 "$(value m0 'warden_certificates_issued_total{profile="server",operation="issue"}')" \
    "issued counters start at 0, present before any issuance"
expect_eq 1 "$(value m0 'warden_http_requests_total{listener="public",method="GET",endpoint="/healthz",status="200"}')" \
    "the readiness probe is counted under /healthz"

# traffic
A=$(issue alpha server)
issue bravo client >/dev/null
out=$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' \
    "$API/certificates/$A/revoke")
expect_eq 200 "$(status_of "$out")" "alpha is revoked"
expect_error "$(wd_api "$D" admin "$API/certificates/00112233445566778899aabbccddeeff")" 404 not_found \
    "an unknown serial is 404"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D/ca.crt" --data-binary @alpha.csr "$API/certificates")
expect_eq 403 "$code" "issuance without a client certificate is refused"
curl -sS -o /dev/null "$PUB/crl"
curl -sS -o /dev/null "$PUB/crl"
expect_eq 404 "$(curl -sS -o /dev/null -w '%{http_code}' "$PUB/no/such/thing")" "an unknown public path is 404"
expect_match "bravo.crt: good" "$(ocsp bravo.crt)" "OCSP: bravo is good (signed, then cached)"
expect_match "bravo.crt: good" "$(ocsp bravo.crt)" "OCSP: bravo again (from the cache)"
expect_match "bravo.crt: good" "$(ocsp bravo.crt)" "OCSP: and again"

scrape m1
promtool_ok m1 "the scrape after traffic"
expect_eq 1 "$(value m1 'warden_certificates_issued_total{profile="server",operation="issue"}')" \
    "issued_total counts the server certificate"
expect_eq 1 "$(value m1 'warden_certificates_issued_total{profile="client",operation="issue"}')" \
    "issued_total counts the client certificate"
total=$(awk '$1 ~ /^warden_certificates_issued_total\{/ { n += $2 } END { print n }' m1.txt)
[ "$total" -ge 2 ] && pass "issued_total moved by at least the 2 issuances" ||
    fail "issued_total moved by at least the 2 issuances: $total"
expect_eq 1 "$(value m1 'warden_certificates_revoked_total{reason="keyCompromise"}')" \
    "revoked_total counts the revocation under its reason"
expect_eq 0 "$(value m1 'warden_certificates_revoked_total{reason="superseded"}')" \
    "other reasons stay at 0"
expect_eq 2 "$(value m1 'warden_http_requests_total{listener="api",method="POST",endpoint="/api/v1/certificates",status="201"}')" \
    "requests_total: two 201s for POST /api/v1/certificates"
expect_eq 1 "$(value m1 'warden_http_requests_total{listener="api",method="POST",endpoint="/api/v1/certificates",status="403"}')" \
    "requests_total: the refusal without a client certificate, under its route"
expect_eq 1 "$(value m1 'warden_http_requests_total{listener="api",method="POST",endpoint="/api/v1/certificates/*/revoke",status="200"}')" \
    "requests_total: the revocation, by route pattern (not by serial)"
expect_eq 1 "$(value m1 'warden_http_requests_total{listener="api",method="GET",endpoint="/api/v1/certificates/*",status="404"}')" \
    "requests_total: the 404 for an unknown serial"
expect_eq 2 "$(value m1 'warden_http_requests_total{listener="public",method="GET",endpoint="/crl",status="200"}')" \
    "requests_total: /crl twice"
expect_eq 1 "$(value m1 'warden_http_requests_total{listener="public",method="other",endpoint="unmatched",status="404"}')" \
    "requests_total: an unknown path is counted as unmatched, not by its path"
expect_eq 3 "$(value m1 'warden_http_requests_total{listener="public",method="POST",endpoint="/ocsp",status="200"}')" \
    "requests_total: three OCSP requests"
expect_eq 3 "$(value m1 'warden_http_request_duration_seconds_count{listener="api",method="POST",endpoint="/api/v1/certificates"}')" \
    "the latency histogram counts every POST /api/v1/certificates"
expect_eq 3 "$(value m1 'warden_http_request_duration_seconds_bucket{listener="api",method="POST",endpoint="/api/v1/certificates",le="+Inf"}')" \
    "its +Inf bucket equals its count"
hits=$(value m1 warden_ocsp_cache_hits_total)
misses=$(value m1 warden_ocsp_cache_misses_total)
[ "$hits" -ge 2 ] && pass "OCSP cache hits counted ($hits)" || fail "OCSP cache hits counted: [$hits]"
[ "$misses" -ge 1 ] && pass "OCSP cache misses counted ($misses)" || fail "OCSP cache misses counted: [$misses]"
signed=$(value m1 warden_signing_duration_seconds_count)
[ "$signed" -ge 3 ] && pass "signing latency observed for 2 certificates and an OCSP answer ($signed)" ||
    fail "signing latency observed: [$signed]"
crl=$(curl -sS "$PUB/crl" | openssl crl -inform DER -noout -crlnumber | cut -d= -f2)
expect_eq "$((crl))" "$(value m1 warden_crl_number)" "warden_crl_number is the published CRL's number"
expect_eq "$(curl -sS "$PUB/crl" | wc -c)" "$(value m1 warden_crl_size_bytes)" "warden_crl_size_bytes is its size"
age=$(value m1 warden_crl_age_seconds)
[ "$age" -ge 0 ] && [ "$age" -lt 60 ] && pass "warden_crl_age_seconds is fresh ($age)" || fail "warden_crl_age_seconds: [$age]"
db=$(value m1 warden_db_size_bytes)
[ "$db" -gt 0 ] && pass "warden_db_size_bytes is reported ($db)" || fail "warden_db_size_bytes: [$db]"
expect_match '^warden_build_info\{version="[^"]+"\} 1$' "$(cat m1.txt)" "warden_build_info names the version"

# the inventory gauges are recounted in the background once 10 s old: they catch up
for _ in $(seq 1 30); do
    scrape m2
    [ "$(value m2 'warden_certificates{status="revoked"}')" = 1 ] && break
    sleep 0.5
done
expect_eq 1 "$(value m2 'warden_certificates{status="revoked"}')" "the revoked gauge shows the revocation"
valid=$(value m2 'warden_certificates{status="valid"}')
rows=$(sqlite3 "$D/warden.db" "select count(*) from certificates where revoked_at is null")
expect_eq "$rows" "$valid" "the valid gauge counts every unrevoked, unexpired certificate"
expect_match '^warden_certificates_expiring\{within="30d"\} [0-9]+$' "$(cat m2.txt)" \
    "expiring within 30 days is reported"
expect_match '^warden_certificates_expiring\{within="7d"\} [0-9]+$' "$(cat m2.txt)" \
    "expiring within 7 days is reported"
promtool_ok m2 "a later scrape"

wd_stop
expect_eq 0 "$WD_STOP_STATUS" "serve exits 0 on SIGTERM"
wd_finish
