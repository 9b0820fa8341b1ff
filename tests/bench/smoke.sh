#!/usr/bin/env bash
# Keeps the benchmark tools from rotting (CTest label "bench"): datagen
# fills a fresh store with 2,000 certificates that the daemon then lists,
# searches, serves and puts in its CRL and OCSP answers as its own; loadgen
# issues over mTLS for 2 seconds with 2 clients, asks OCSP with nonces and
# makes resumed connections. Checks that the outputs parse and that work was
# done without errors; never asserts a timing.
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
LOADGEN=${LOADGEN_BIN:?set LOADGEN_BIN}
DATAGEN=${DATAGEN_BIN:?set DATAGEN_BIN}
wd_setup
cd "$WD_TMP" || exit 1

D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null 2>&1
before=$(sqlite3 "$D/warden.db" 'select count(*) from certificates')

# ---- datagen ----
out=$("$DATAGEN" --dir "$D" --certs 2000 --revoked 200 --threads 2)
expect_eq "2000 200" "$(jq -r '"\(.certs) \(.revoked)"' <<<"$out")" \
    "datagen reports 2000 certificates, 200 revoked"
expect_eq $((before + 2000)) "$(sqlite3 "$D/warden.db" 'select count(*) from certificates')" \
    "datagen inserted 2000 rows"
expect_eq 200 "$(sqlite3 "$D/warden.db" 'select count(*) from certificates where revoked_at is not null')" \
    "200 of them are revoked"
expect_eq 2000 "$(sqlite3 "$D/warden.db" "select count(*) from certificates_fts where certificates_fts match '\"internal\"'")" \
    "the search index covers the generated rows"

wd_start "$D" || exit 1
serial=$(sqlite3 "$D/warden.db" "select serial from certificates where cn like 'svc-1234.%'")
out=$(wd_api "$D" admin -H 'Accept: application/pem-certificate-chain' \
    "https://$WD_API/api/v1/certificates/$serial")
expect_eq 200 "$(status_of "$out")" "the daemon serves a generated certificate"
body_of "$out" >gen.pem
expect_match ': OK$' "$(openssl verify -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" gen.pem 2>&1)" \
    "openssl verifies a generated certificate against the CA"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?q=svc-1234.")
expect_eq "200 svc-1234." "$(status_of "$out") $(body_of "$out" | jq -r '.items[0].subject' | grep -o 'svc-1234\.')" \
    "a CN search finds a generated certificate"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?status=revoked&limit=1000")
expect_eq 200 "$(body_of "$out" | jq '.items | length')" "the revoked filter lists the 200"
curl -fsS "http://$WD_PUB/crl" -o crl.der
expect_eq 200 "$(openssl crl -inform DER -in crl.der -noout -text | grep -c 'Serial Number')" \
    "the daemon's CRL lists the 200"
revoked=$(sqlite3 "$D/warden.db" 'select serial from certificates where revoked_at is not null limit 1')
wd_api "$D" admin -H 'Accept: application/pem-certificate-chain' \
    "https://$WD_API/api/v1/certificates/$revoked" | sed '$d' | openssl x509 -out revoked.pem
expect_match 'revoked.pem: revoked' \
    "$(openssl ocsp -issuer "$D/intermediate.crt" -cert revoked.pem -url "http://$WD_PUB/ocsp" \
        -CAfile "$D/ca.crt" 2>&1)" "OCSP says a generated revoked certificate is revoked"

# ---- loadgen ----
MTLS=(--cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key")
# load_ok NAME JSON: parses, did work, no errors
load_ok() {
    local n e
    n=$(jq -r .requests <<<"$2" 2>/dev/null)
    e=$(jq -r .errors <<<"$2" 2>/dev/null)
    if [ -n "$n" ] && [ "$n" != null ] && [ "$n" -gt 0 ] && [ "$e" = 0 ]; then
        pass "$1: $n requests, no errors"
    else
        fail "$1: [$2]"
    fi
}
out=$("$LOADGEN" --url "https://$WD_API/api/v1/certificates" --method POST \
    --csr-pool 8 "${MTLS[@]}" --clients 2 --duration 2)
load_ok "loadgen issuance, 2 clients, 2 s" "$out"
expect_eq "$(jq .requests <<<"$out")" "$(jq '.status_counts["201"]' <<<"$out")" \
    "every issuance answered 201"
out=$("$LOADGEN" --url "http://$WD_PUB/ocsp" --method POST --ocsp-cert revoked.pem \
    --ocsp-issuer "$D/intermediate.crt" --clients 2 --duration 1)
load_ok "loadgen OCSP with nonces, plain HTTP" "$out"
out=$("$LOADGEN" --url "https://$WD_API/api/v1/ca" "${MTLS[@]}" --clients 2 \
    --duration 1 --no-keepalive --resume)
load_ok "loadgen new connections with --resume" "$out"
expect_eq "$(jq .requests <<<"$out")" "$(jq .connections <<<"$out")" \
    "no keep-alive: one connection per request"

wd_finish
