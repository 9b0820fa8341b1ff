#!/usr/bin/env bash
# The API listener serves only clients whose certificate chains to this CA,
# is in the store, and is within its validity: no certificate, a foreign
# CA's, one we never recorded and an expired one are all refused before a
# body byte is read. Services may read /ca and their own certificate only.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
"$WARDEN_BIN" init --dir "$WD_TMP/other" --name Other >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt # every client here trusts this daemon's root
rows() { sqlite3 "$D/warden.db" "select count(*) from certificates"; }
wd_csr ecdsa-p256 good -subj "/CN=good.svc.internal" 2>/dev/null
before=$(rows)

# no client certificate at all
out=$(curl -sS --cacert "$D/ca.crt" -w '\n%{http_code}' --data-binary @good.csr \
    "https://$WD_API/api/v1/certificates")
expect_error "$out" 403 client_certificate_required "no client certificate: 403 client_certificate_required"

# the request is refused from its headers: curl's Expect: 100-continue never
# gets its 100, so the body is never sent
head -c 60000 /dev/urandom | base64 >big.txt
out=$(curl -sS --cacert "$D/ca.crt" -H 'Expect: 100-continue' -w '\n%{http_code} %{size_upload}' \
    --data-binary @big.txt "https://$WD_API/api/v1/certificates")
expect_eq "403 0" "$(tail -n1 <<<"$out")" "refused before the body is sent (0 bytes uploaded)"

# a certificate from another CA
out=$(wd_api "$WD_TMP/other" admin "https://$WD_API/api/v1/ca")
expect_error "$out" 403 client_certificate_invalid "a foreign CA's admin certificate is refused"

# a certificate signed with our intermediate key that the store never saw
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key \
    -subj "/CN=rogue" -out rogue.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >ext.cnf
openssl x509 -req -in rogue.csr -CA "$D/intermediate.crt" -CAkey "$D/intermediate.key" \
    -CAcreateserial -days 1 -extfile ext.cnf -out rogue.crt 2>/dev/null
out=$(curl -sS --cacert "$D/ca.crt" --cert rogue.crt --key rogue.key -w '\n%{http_code}' \
    "https://$WD_API/api/v1/ca")
expect_error "$out" 403 client_certificate_invalid "a certificate the store does not hold is refused"
expect_match "client_cert_unknown" "$(cat "$WD_LOG")" "the unknown certificate is logged as an anomaly"

# a service identity: a client certificate issued by this CA, not an admin
wd_csr ecdsa-p256 svc -subj "/CN=svc.internal" 2>/dev/null
json=$(jq -n --rawfile csr svc.csr '{csr: $csr, profile: "client"}')
out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary "$json" \
    "https://$WD_API/api/v1/certificates")
body_of "$out" | jq -r .certificate >svc.crt
svc_serial=$(body_of "$out" | jq -r .serial)
out=$(wd_api . svc "https://$WD_API/api/v1/ca")
expect_eq 200 "$(status_of "$out")" "a service may read /api/v1/ca"
out=$(wd_api . svc "https://$WD_API/api/v1/certificates/$svc_serial")
expect_eq 200 "$(status_of "$out")" "a service may read its own certificate"
admin_serial=$(sqlite3 "$D/warden.db" "select serial from certificates where cn='admin'")
out=$(wd_api . svc "https://$WD_API/api/v1/certificates/$admin_serial")
expect_error "$out" 403 forbidden "a service may not read another certificate"
out=$(wd_api . svc "https://$WD_API/api/v1/certificates")
expect_error "$out" 403 forbidden "a service may not list the inventory"
n=$(rows)
out=$(wd_api . svc --data-binary @good.csr "https://$WD_API/api/v1/certificates")
expect_error "$out" 403 name_not_allowed "a service without grants may not issue"
expect_eq "$n" "$(rows)" "nothing is stored for a refused issuance"

# an expired client certificate: issue one valid for 2 seconds, wait
wd_csr ecdsa-p256 brief -subj "/CN=brief.internal" 2>/dev/null
json=$(jq -n --rawfile csr brief.csr '{csr: $csr, profile: "client", validity: "2s"}')
out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary "$json" \
    "https://$WD_API/api/v1/certificates")
body_of "$out" | jq -r .certificate >brief.crt
out=$(wd_api . brief "https://$WD_API/api/v1/ca")
expect_eq 200 "$(status_of "$out")" "a short-lived client certificate works while valid"
sleep 3
out=$(wd_api . brief "https://$WD_API/api/v1/ca")
expect_error "$out" 403 client_certificate_invalid "an expired client certificate is refused"

# the server certificate (serverAuth only) is not a client identity
out=$(curl -sS --cacert "$D/ca.crt" --cert <(sed -n '1,/END CERTIFICATE/p' "$D/server.crt") \
    --key "$D/server.key" -w '\n%{http_code}' "https://$WD_API/api/v1/ca")
expect_error "$out" 403 client_certificate_invalid "a serverAuth-only certificate is not a client"

# TLS: 1.2 and 1.3 only, AEAD suites with ECDHE only
tls() {
    local out
    # the whole transcript first: a pipe into grep -q races s_client's exit
    out=$(openssl s_client -connect "$WD_API" -CAfile "$D/ca.crt" -cert "$D/admin.crt" \
        -key "$D/admin.key" "$@" </dev/null 2>&1)
    if grep -Eq "^New, TLSv1\.[23], Cipher is [A-Z]" <<<"$out" &&
        grep -q "Verify return code: 0" <<<"$out"; then
        echo ok
    else
        echo refused
    fi
}
expect_eq ok "$(tls -tls1_3)" "a TLS 1.3 client is served"
expect_eq ok "$(tls -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)" "a TLS 1.2 client with an AEAD ECDHE suite is served"
expect_eq refused "$(tls -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')" "a TLS 1.1 client is refused"
expect_eq refused "$(tls -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:AES128-SHA:AES128-SHA256')" \
    "a TLS 1.2 client offering only CBC or RSA key exchange suites is refused"

# keep-alive: a client's next request reuses its connection (and its TLS
# session), GET and POST alike, on both listeners
conns=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects} ' --cacert "$D/ca.crt" \
    --cert "$D/admin.crt" --key "$D/admin.key" "https://$WD_API/api/v1/ca" "https://$WD_API/api/v1/whoami")
expect_eq "1 0 " "$conns" "two GETs on the API listener share one connection"
conns=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects} ' "http://$WD_PUB/healthz" "http://$WD_PUB/ca.crt")
expect_eq "1 0 " "$conns" "two GETs on the public listener share one connection"

# TLS session resumption: a returning client skips the full handshake,
# and its certificate, carried in the ticket, is still checked against the
# store on every request: once revoked, a resumed session is refused too
resumed_get() { # resumed_get CERT KEY SESSION-IN|-sess_out FILE -> transcript
    printf 'GET /api/v1/whoami HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$WD_API" |
        timeout 10 openssl s_client -connect "$WD_API" -CAfile "$D/ca.crt" -cert "$1" -key "$2" \
            "$3" "$4" -ign_eof 2>/dev/null
}
resumed_get svc.crt svc.key -sess_out svc.sess >/dev/null
out=$(resumed_get svc.crt svc.key -sess_in svc.sess)
expect_match "^Reused, TLSv1.3" "$out" "a returning client resumes its TLS session"
expect_match '"role":"service"' "$out" "a resumed session is answered as its client certificate"
wd_api "$D" admin -X POST "https://$WD_API/api/v1/certificates/$svc_serial/revoke" >/dev/null
out=$(resumed_get svc.crt svc.key -sess_in svc.sess)
expect_match "client_certificate_invalid" "$out" "a resumed session of a revoked certificate is refused"

expect_eq "$((before + 2))" "$(rows)" "only the two admin issuances were stored"
wd_finish
