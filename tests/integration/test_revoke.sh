#!/usr/bin/env bash
# Revocation end to end: the revoke API and CLI, the intermediate's CRL
# (number, reason, ETag/304, openssl verify -crl_check), the root's CRL and
# /crls.pem (-crl_check_all), the OCSP responder (openssl ocsp: good,
# revoked, unknown, nonce, POST and GET, malformed, unauthorized), a
# revoked client refused at once, and durability across kill -9.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
"$WARDEN_BIN" init --dir "$WD_TMP/other" --name Other >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
PUB="http://$WD_PUB"

issue() { # issue NAME PROFILE -> NAME.crt, NAME.key; prints the serial
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1.svc.internal" 2>/dev/null
    jq -n --rawfile csr "$1.csr" --arg p "$2" '{csr: $csr, profile: $p}' >"$1.json"
    wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @"$1.json" \
        "$API/certificates" | sed '$d' >"$1.out"
    jq -r .certificate "$1.out" >"$1.crt"
    jq -r .serial "$1.out"
}
crl_number() { curl -sS "$PUB/crl" | openssl crl -inform DER -noout -crlnumber | cut -d= -f2; }
ocsp() { # ocsp CERT [extra args] -> openssl ocsp output
    local cert=$1
    shift
    # a digest option must come before -cert
    openssl ocsp "$@" -issuer "$D/intermediate.crt" -cert "$cert" -url "$PUB/ocsp" \
        -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1
}

A=$(issue alpha server-client)
B=$(issue bravo server-client)
C=$(issue charlie client)

# the CRL before any revocation
curl -sS -D crl.h "$PUB/crl" -o crl0.der
expect_match "Content-Type: application/pkix-crl" "$(tr -d '\r' <crl.h)" "/crl is application/pkix-crl"
text=$(openssl crl -inform DER -in crl0.der -noout -text -CAfile "$D/intermediate.crt" 2>&1)
expect_match "verify OK" "$text" "openssl crl verifies the CRL with the intermediate"
expect_match "Version 2" "$text" "the CRL is v2"
expect_match "X509v3 CRL Number" "$text" "the CRL has a CRL number"
expect_match "X509v3 Authority Key Identifier" "$text" "the CRL has an AKI"
expect_match "No Revoked Certificates" "$text" "a new CA's CRL lists nothing"
expect_match "Next Update" "$text" "the CRL has a nextUpdate"
etag=$(tr -d '\r' <crl.h | sed -n 's/^ETag: //p')
expect_match '^"crl-[0-9]+"$' "$etag" "the CRL has an ETag"
expect_match "^Cache-Control: public, max-age=[0-9]+" "$(tr -d '\r' <crl.h)" "the CRL has a max-age"
expect_match "^Last-Modified: " "$(tr -d '\r' <crl.h)" "the CRL has Last-Modified"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$PUB/crl")
expect_eq 304 "$code" "If-None-Match with the current ETag gets 304"
n0=$(crl_number)
expect_match "good" "$(ocsp alpha.crt -no_nonce)" "OCSP: alpha is good before revocation"
expect_match "Response verify OK" "$(ocsp alpha.crt)" "OCSP: the response verifies (delegated responder, nonce)"

# revoke through the API
out=$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' \
    "$API/certificates/$A/revoke")
expect_eq 200 "$(status_of "$out")" "revoke answers 200"
expect_eq "$A keyCompromise" "$(body_of "$out" | jq -r '[.serial, .reason] | join(" ")')" \
    "revoke answers the serial and reason"
expect_error "$(wd_api "$D" admin -X POST "$API/certificates/$A/revoke")" 409 already_revoked \
    "revoking twice is 409 already_revoked"
expect_error "$(wd_api "$D" admin -X POST "$API/certificates/00112233445566778899aabbccddeeff/revoke")" \
    404 not_found "revoking an unknown serial is 404"
expect_error "$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "bored"}' \
    "$API/certificates/$B/revoke")" 400 invalid_reason "an unknown reason is 400"
expect_error "$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "certificateHold"}' \
    "$API/certificates/$B/revoke")" 400 invalid_reason "certificateHold is refused"
expect_error "$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"why": 1}' \
    "$API/certificates/$B/revoke")" 400 invalid_field "an unknown member is 400"
expect_eq 1 "$(sqlite3 "$D/warden.db" "select count(*) from audit where serial='$A' and action='revoke'")" \
    "the revocation is in the audit log once"
out=$(wd_api "$D" admin "$API/certificates/$A")
expect_eq "revoked keyCompromise" "$(body_of "$out" | jq -r '[.status, .revocation.reason] | join(" ")')" \
    "the certificate reads as revoked"

# at once: the CRL lists it, the number grew, the ETag changed
curl -sS "$PUB/crl" -o crl1.der
text=$(openssl crl -inform DER -in crl1.der -noout -text)
expect_match "Serial Number: $(tr 'a-f' 'A-F' <<<"$A")" "$text" "the CRL lists the revoked serial"
expect_match "Key Compromise" "$text" "the CRL entry carries the reason"
n1=$(crl_number)
[ $((n1)) -gt $((n0)) ] && pass "the CRL number grew" || fail "the CRL number grew ($n0 -> $n1)"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$PUB/crl")
expect_eq 200 "$code" "the old ETag no longer matches"
curl -sS "$PUB/crl.pem" -o crl.pem
openssl crl -in crl.pem -noout 2>/dev/null && pass "/crl.pem is a PEM CRL" || fail "/crl.pem is a PEM CRL"
v=$(openssl verify -crl_check -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" -CRLfile crl.pem alpha.crt 2>&1)
expect_match "certificate revoked" "$v" "openssl verify -crl_check rejects the revoked leaf"
v=$(openssl verify -crl_check -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" -CRLfile crl.pem bravo.crt 2>&1)
expect_eq "bravo.crt: OK" "$v" "openssl verify -crl_check accepts another leaf"
curl -sS "$PUB/crls.pem" -o crls.pem
expect_eq 2 "$(grep -c 'BEGIN X509 CRL' crls.pem)" "/crls.pem holds the intermediate's and the root's CRL"
v=$(openssl verify -crl_check_all -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" -CRLfile crls.pem bravo.crt 2>&1)
expect_eq "bravo.crt: OK" "$v" "openssl verify -crl_check_all accepts a good leaf with /crls.pem"
v=$(openssl verify -crl_check_all -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" -CRLfile crls.pem alpha.crt 2>&1)
expect_match "certificate revoked" "$v" "openssl verify -crl_check_all rejects the revoked leaf"

# OCSP: revoked, good, unknown, nonce, GET, malformed, unauthorized
out=$(ocsp alpha.crt -no_nonce)
expect_match "alpha.crt: revoked" "$out" "OCSP: alpha is revoked"
expect_match "Reason: keyCompromise" "$out" "OCSP: the reason is keyCompromise"
expect_match "Response verify OK" "$out" "OCSP: the revoked response verifies"
out=$(ocsp bravo.crt)
expect_match "bravo.crt: good" "$out" "OCSP with a nonce: bravo is good"
expect_match "Response verify OK" "$out" "OCSP with a nonce: verifies"
expect_no_match "WARNING: no nonce" "$out" "OCSP: the nonce is echoed"
out=$(ocsp bravo.crt -sha256 -no_nonce)
expect_match "bravo.crt: good" "$out" "OCSP with a SHA-256 CertID: good"
out=$(openssl ocsp -issuer "$D/intermediate.crt" -serial 0x7eadbeef00112233 -url "$PUB/ocsp" \
    -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1)
expect_match "0x7eadbeef00112233: unknown" "$out" "OCSP: a serial never issued is unknown, not good"
openssl ocsp -issuer "$D/intermediate.crt" -cert alpha.crt -no_nonce -reqout req.der 2>/dev/null
b64=$(base64 -w0 req.der | jq -sRr @uri)
curl -sS -D get.h "$PUB/ocsp/$b64" -o get.der
out=$(openssl ocsp -respin get.der -issuer "$D/intermediate.crt" -cert alpha.crt \
    -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1)
expect_match "alpha.crt: revoked" "$out" "OCSP GET form: revoked"
expect_match "Response verify OK" "$out" "OCSP GET form: verifies"
expect_match "^Content-Type: application/ocsp-response" "$(tr -d '\r' <get.h)" "OCSP answers application/ocsp-response"
expect_match "^Cache-Control: public, max-age=[0-9]+" "$(tr -d '\r' <get.h)" "a cached OCSP answer has a max-age"
expect_match "^ETag: " "$(tr -d '\r' <get.h)" "a cached OCSP answer has an ETag"
head -c 200 /dev/urandom >junk.bin
curl -sS -H 'Content-Type: application/ocsp-request' --data-binary @junk.bin "$PUB/ocsp" -o bad.der
out=$(openssl ocsp -respin bad.der -resp_text -noverify 2>&1)
expect_match "malformedrequest" "$out" "OCSP: garbage gets malformedRequest"
openssl ocsp -issuer "$WD_TMP/other/intermediate.crt" -cert "$WD_TMP/other/admin.crt" -reqout other.der 2>/dev/null
curl -sS -H 'Content-Type: application/ocsp-request' --data-binary @other.der "$PUB/ocsp" -o unauth.der
out=$(openssl ocsp -respin unauth.der -resp_text -noverify 2>&1)
expect_match "unauthorized" "$out" "OCSP: another issuer's certificate gets unauthorized"

# a service revokes its own certificate and is refused at once
out=$(wd_api . charlie -X POST "$API/certificates/$B/revoke")
expect_error "$out" 403 forbidden "a service may not revoke another certificate"
out=$(wd_api . charlie -X POST "$API/certificates/$C/revoke")
expect_eq 200 "$(status_of "$out")" "a service may revoke its own certificate"
out=$(wd_api . charlie "$API/ca")
expect_error "$out" 403 client_certificate_invalid "a revoked client certificate is refused on its next request"

# warden revoke on the host: the running daemon republishes
out=$("$WARDEN_BIN" revoke --dir "$D" --reason superseded "$B" 2>&1)
expect_eq 0 $? "warden revoke exits 0"
seen=""
for _ in $(seq 1 50); do
    if curl -sS "$PUB/crl" | openssl crl -inform DER -noout -text | grep -q "$(tr 'a-f' 'A-F' <<<"$B")"; then
        seen=yes
        break
    fi
    sleep 0.1
done
expect_eq yes "$seen" "a CLI revocation reaches the daemon's CRL within seconds"
expect_match "bravo.crt: revoked" "$(ocsp bravo.crt -no_nonce)" "a CLI revocation reaches OCSP"
out=$("$WARDEN_BIN" revoke --dir "$D" "$B" 2>&1)
expect_eq 1 $? "warden revoke of a revoked certificate exits 1"
expect_match "already revoked" "$out" "and says so"

# GnuTLS reads the CRL as well as openssl does
out=$(certtool --crl-info --inder --infile crl1.der 2>&1)
expect_match "Revoked certificates \(1\)|Revoked certificates: 1" "$out" "certtool --crl-info reads the CRL"
out=$(certtool --verify-crl --infile crl.pem --load-ca-certificate "$D/intermediate.crt" 2>&1)
expect_match "Verified" "$out" "certtool --verify-crl verifies it"

# kill -9: nothing lost, the CRL number never goes back; meanwhile the
# responder's configured life grows to 30 days, so its 7-day certificate
# is due and the daemon renews it at start
n_before=$(crl_number)
ocsp_before=$(openssl x509 -in "$D/ocsp.crt" -noout -serial)
kill -9 "$WD_PID"
wait "$WD_PID" 2>/dev/null
jq '. + {ocsp_responder_validity: "30d"}' "$D/warden.conf" >conf.new && cp conf.new "$D/warden.conf"
wd_start "$D" || exit 1
PUB="http://$WD_PUB"
API="https://$WD_API/api/v1"
n_after=$(crl_number)
[ $((n_after)) -gt $((n_before)) ] && pass "after kill -9 the CRL number went on up" ||
    fail "after kill -9 the CRL number went on up ($n_before -> $n_after)"
text=$(curl -sS "$PUB/crl" | openssl crl -inform DER -noout -text)
expect_match "Serial Number: $(tr 'a-f' 'A-F' <<<"$A")" "$text" "after kill -9 the revocation is still listed"
expect_match "alpha.crt: revoked" "$(ocsp alpha.crt -no_nonce)" "after kill -9 OCSP still says revoked"
expect_no_match "$ocsp_before" "$(openssl x509 -in "$D/ocsp.crt" -noout -serial)" \
    "a responder certificate past two thirds of its life is renewed"
expect_match "Response verify OK" "$(ocsp bravo.crt)" "answers signed by the renewed responder verify"
expect_eq 2 "$(sqlite3 "$D/warden.db" "select count(*) from certificates where profile='ocsp-signing'")" \
    "the renewed responder certificate is in the inventory too"

# the root's CRL: revoke the intermediate with the offline key, SIGHUP
inter_serial=$(openssl x509 -in "$D/intermediate.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
out=$("$WARDEN_BIN" root-crl --dir "$D" --root-key "$D/root.key" --revoke "$inter_serial:cACompromise" 2>&1)
expect_eq 0 $? "warden root-crl exits 0"
kill -HUP "$WD_PID"
sleep 0.3
curl -sS "$PUB/root.crl" -o root.der
text=$(openssl crl -inform DER -in root.der -noout -text -CAfile "$D/ca.crt" 2>&1)
expect_match "verify OK" "$text" "the root's CRL verifies with the root"
expect_match "Serial Number: 0*$(tr 'a-f' 'A-F' <<<"$inter_serial")" "$text" "the root's CRL lists the intermediate"
expect_match "CA Compromise" "$text" "with its reason"
curl -sS "$PUB/crls.pem" -o crls2.pem
v=$(openssl verify -crl_check_all -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" -CRLfile crls2.pem \
    "$D/admin.crt" 2>&1)
expect_match "certificate revoked" "$v" "with the intermediate revoked, -crl_check_all rejects its leaves"

# the intermediate can sign OCSP itself
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly"
jq '. + {ocsp_responder: "intermediate"}' "$D/warden.conf" >conf.new && cp conf.new "$D/warden.conf"
wd_start "$D" || exit 1
PUB="http://$WD_PUB"
out=$(ocsp bravo.crt -resp_text)
expect_match "Response verify OK" "$out" "answers signed by the intermediate verify"
expect_match "Responder Id: .*|Responder ID" "$out" "the answer names its responder"
expect_no_match "OCSP Responder" "$out" "no delegated responder certificate is included"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly again"
wd_finish
