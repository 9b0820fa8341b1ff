#!/usr/bin/env bash
# ACME (RFC 8555) with a real client: Debian's lego obtains, renews and
# revokes certificates from Warden's ACME listener through http-01 and
# tls-alpn-01, and each certificate is an ordinary inventory entry
# (requester acme:<kid>, in the CRL and OCSP once revoked). Plus what a
# client sees of the listener with curl and openssl: the directory over
# HTTPS without a client certificate, nonces, only /acme/ served, and an
# identifier outside acme.allow refused.
#
# Warden validates by connecting to the identifier, so the identifier
# must reach lego on this host without /etc/hosts edits: "localhost"
# (glibc resolves it to loopback; a.localhost does not resolve here). IP
# identifiers (RFC 8738) are not tried: lego 4.9.1 sends an IP as a "dns"
# identifier. The challenge ports are free ports given to both sides
# (--acme-http01-port and lego's --http.port / --tls.port).
source "$(dirname "$0")/lib.sh"
wd_setup
command -v lego >/dev/null || {
    echo "# lego is not installed (tests/packages.txt)"
    exit 1
}
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
cd "$WD_TMP" || exit 1
jq '.acme = {"allow": ["localhost", "127.0.0.1/32", "acme.test"]}' "$D/warden.conf" >conf.json
install -m 0640 conf.json "$D/warden.conf"
ACME=127.0.0.1:$(wd_free_port)
HTTP01=$(wd_free_port)
TLSALPN01=$(wd_free_port)
wd_start "$D" --acme-listen "$ACME" --acme-http01-port "$HTTP01" \
    --acme-tlsalpn01-port "$TLSALPN01" || exit 1
DIRURL="https://$ACME/acme/directory"
PUB="http://$WD_PUB"
export LEGO_CA_CERTIFICATES=$D/ca.crt

expect_match "event=acme_serving directory=https://$ACME/acme/directory" "$(cat "$WD_LOG")" \
    "serve logs the ACME directory's URL"

# ---- the listener, as any client sees it
out=$(curl -sS --cacert "$D/ca.crt" -D dir.h "$DIRURL")
expect_eq "https://$ACME/acme/new-nonce https://$ACME/acme/new-account https://$ACME/acme/new-order" \
    "$(jq -r '[.newNonce, .newAccount, .newOrder] | join(" ")' <<<"$out")" \
    "the directory over HTTPS (no client certificate) names newNonce, newAccount, newOrder"
expect_match "^Content-Type: application/json" "$(tr -d '\r' <dir.h)" "the directory is JSON"
hdrs=$(curl -sS --cacert "$D/ca.crt" -I "https://$ACME/acme/new-nonce" | tr -d '\r')
expect_match "^HTTP/1.1 200" "$hdrs" "HEAD new-nonce answers 200"
expect_match "^Replay-Nonce: [A-Za-z0-9_-]{22,}$" "$hdrs" "HEAD new-nonce returns a Replay-Nonce"
expect_match "^Cache-Control: no-store" "$hdrs" "and forbids caching it (RFC 8555 7.2)"
expect_match "^Link: <https://$ACME/acme/directory>;rel=\"index\"" "$hdrs" \
    "and links the directory (RFC 8555 7.1)"
code=$(curl -sS --cacert "$D/ca.crt" -o other.json -w '%{http_code}' "https://$ACME/api/v1/ca")
expect_eq 404 "$code" "a non-ACME path on the ACME listener is 404"
code=$(curl -sS --cacert "$D/ca.crt" -o /dev/null -w '%{http_code}' "https://$ACME/crl")
expect_eq 404 "$code" "the public listener's paths are not served there either"
tls=$(openssl s_client -connect "$ACME" -CAfile "$D/ca.crt" -servername localhost </dev/null 2>&1)
expect_match "Verify return code: 0" "$tls" "the listener presents the daemon's certificate, which chains to ca.crt"
expect_match "No client certificate CA names sent" "$tls" "and asks for no client certificate"

# ---- lego: http-01
L=$WD_TMP/lego-http
lego_http() {
    lego --server "$DIRURL" --accept-tos --email ops@acme.test --path "$L" \
        --http --http.port "127.0.0.1:$HTTP01" "$@"
}
# serial of a PEM certificate, as the inventory writes it: whole bytes
# (a leading 0 nibble stays), without the 00 bytes of a DER sign pad
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^\(00\)*//'; }
# the inventory entry of a serial, as the admin sees it
entry_of() {
    wd_api "$D" admin "https://$WD_API/api/v1/certificates?q=$1" | sed '$d' |
        jq -c --arg s "$1" '.items[] | select(.serial == $s)'
}
# wait up to 5 s for the CRL to list a serial (rebuilt after each revocation)
crl_lists() {
    for _ in $(seq 1 50); do
        curl -sS "$PUB/crl" | openssl crl -inform DER -noout -text |
            tr "A-F" "a-f" | grep -qi "serial number: 0*$1\$" && return 0
        sleep 0.1
    done
    return 1
}
ocsp_of() {
    openssl ocsp -issuer "$D/intermediate.crt" -cert "$1" -url "$PUB/ocsp" \
        -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" -no_nonce 2>&1
}
# lego keeps the account at accounts/<server>/<email>/account.json
kid_of() {
    jq -r .registration.uri "$1"/accounts/*/ops@acme.test/account.json | sed 's,.*/acme/acct/,,'
}

if lego_http --domains localhost run >lego-http.log 2>&1; then
    pass "lego obtains a certificate for localhost with http-01"
else
    fail "lego obtains a certificate for localhost with http-01"
    sed 's/^/#   /' lego-http.log | tail -20
fi
C=$L/certificates/localhost
openssl x509 -in "$C.crt" -out leaf.pem 2>/dev/null
expect_match ": OK$" "$(openssl verify -CAfile "$D/ca.crt" -untrusted "$C.issuer.crt" leaf.pem 2>&1)" \
    "the issued chain verifies against ca.crt"
expect_match "DNS:localhost" "$(openssl x509 -in leaf.pem -noout -ext subjectAltName 2>&1)" \
    "the certificate names localhost"
expect_match "TLS Web Server Authentication" "$(openssl x509 -in leaf.pem -noout -ext extendedKeyUsage 2>&1)" \
    "and is a server certificate"
S1=$(serial_of leaf.pem)
KID=$(kid_of "$L")
entry=$(entry_of "$S1")
expect_eq "acme:$KID" "$(jq -r .requester <<<"$entry")" \
    "it is in the inventory with requester acme:<the account's kid>"

# renewal: --days 9999 makes lego renew a fresh certificate
cp "$C.crt" first.crt
if lego_http --domains localhost renew --days 9999 --no-random-sleep >lego-renew.log 2>&1; then
    pass "lego renews it"
else
    fail "lego renews it"
    sed 's/^/#   /' lego-renew.log | tail -20
fi
openssl x509 -in "$C.crt" -out leaf2.pem 2>/dev/null
S2=$(serial_of leaf2.pem)
if [ -n "$S2" ] && [ "$S2" != "$S1" ]; then pass "the renewal is a new certificate"; else fail "the renewal is a new certificate: $S1 then $S2"; fi
expect_eq "acme:$KID" "$(entry_of "$S2" | jq -r .requester)" "the renewal is in the inventory too"

# revocation by the account that ordered it
if lego_http --domains localhost revoke >lego-revoke.log 2>&1; then
    pass "lego revokes the renewed certificate"
else
    fail "lego revokes the renewed certificate"
    sed 's/^/#   /' lego-revoke.log | tail -20
fi
expect_eq revoked "$(entry_of "$S2" | jq -r .status)" "the inventory says revoked"
if crl_lists "$S2"; then pass "the CRL lists it"; else fail "the CRL lists it"; fi
expect_match "leaf2.pem: revoked" "$(ocsp_of leaf2.pem | sed 's/^[^:]*:/leaf2.pem:/')" "OCSP says revoked"
expect_match ": good" "$(ocsp_of leaf.pem)" "OCSP still says good for the first one"

# ---- lego: tls-alpn-01, a new account
T=$WD_TMP/lego-tls
lego_tls() {
    lego --server "$DIRURL" --accept-tos --email ops@acme.test --path "$T" \
        --tls --tls.port "127.0.0.1:$TLSALPN01" "$@"
}
if lego_tls --domains localhost run >lego-tls.log 2>&1; then
    pass "lego obtains a certificate for localhost with tls-alpn-01"
else
    fail "lego obtains a certificate for localhost with tls-alpn-01"
    sed 's/^/#   /' lego-tls.log | tail -20
fi
C=$T/certificates/localhost
openssl x509 -in "$C.crt" -out tleaf.pem 2>/dev/null
expect_match ": OK$" "$(openssl verify -CAfile "$D/ca.crt" -untrusted "$C.issuer.crt" tleaf.pem 2>&1)" \
    "the tls-alpn-01 chain verifies against ca.crt"
S3=$(serial_of tleaf.pem)
KID2=$(kid_of "$T")
if [ -n "$KID2" ] && [ "$KID2" != "$KID" ]; then pass "the second account has its own kid"; else fail "the second account has its own kid: $KID2"; fi
expect_eq "acme:$KID2" "$(entry_of "$S3" | jq -r .requester)" "it is in the inventory with the second account's kid"
if lego_tls --domains localhost renew --days 9999 --no-random-sleep >lego-tls-renew.log 2>&1; then
    pass "lego renews it with tls-alpn-01"
else
    fail "lego renews it with tls-alpn-01"
    sed 's/^/#   /' lego-tls-renew.log | tail -20
fi
openssl x509 -in "$C.crt" -out tleaf2.pem 2>/dev/null
S4=$(serial_of tleaf2.pem)
if [ -n "$S4" ] && [ "$S4" != "$S3" ]; then pass "the tls-alpn-01 renewal is a new certificate"; else fail "the tls-alpn-01 renewal is a new certificate"; fi
if lego_tls --domains localhost revoke >lego-tls-revoke.log 2>&1; then
    pass "lego revokes it"
else
    fail "lego revokes it"
    sed 's/^/#   /' lego-tls-revoke.log | tail -20
fi
if crl_lists "$S4"; then pass "the CRL lists the revoked tls-alpn-01 certificate"; else fail "the CRL lists the revoked tls-alpn-01 certificate"; fi
expect_match ": revoked" "$(ocsp_of tleaf2.pem)" "OCSP says revoked"

# ---- policy: an identifier outside acme.allow
if lego_http --domains outside.example run >lego-outside.log 2>&1; then
    fail "lego gets nothing for a name outside acme.allow"
else
    pass "lego gets nothing for a name outside acme.allow"
fi
expect_match "rejectedIdentifier" "$(cat lego-outside.log)" "lego reports rejectedIdentifier"
# a name under an allowed one, that lego cannot answer for: no certificate,
# and the challenge's error says why
if lego_http --domains nowhere.acme.test run >lego-unreachable.log 2>&1; then
    fail "a name allowed but not answered for gets no certificate"
else
    pass "a name allowed but not answered for gets no certificate"
fi
expect_no_match "rejectedIdentifier" "$(cat lego-unreachable.log)" "it is allowed: refused for its challenge, not by policy"

wd_stop
expect_eq 0 "$WD_STOP_STATUS" "serve stops cleanly with ACME running"

# ---- config: what serve refuses, and --acme-allow
jq 'del(.acme)' "$D/warden.conf" >noallow.json
install -m 0640 noallow.json "$D/warden.conf"
"$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" --acme-listen "127.0.0.1:$(wd_free_port)" \
    >noallow.log 2>&1
expect_eq 1 "$?" "serve refuses --acme-listen without an allow list"
expect_match "key=acme.allow" "$(cat noallow.log)" "and names acme.allow"
jq '.acme = {"allow": []}' noallow.json >empty.json
install -m 0640 empty.json "$D/warden.conf"
"$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" >empty.log 2>&1
expect_eq 1 "$?" "serve refuses an empty acme.allow"
jq '.acme = {"allow": ["localhost"], "lsten": "127.0.0.1:1"}' noallow.json >typo.json
install -m 0640 typo.json "$D/warden.conf"
"$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" >typo.log 2>&1
expect_eq 1 "$?" "serve refuses an unknown key in acme"
expect_match "key=acme" "$(cat typo.log)" "and says it is in acme"
jq '.acme = {"allow": ["localhost"], "cert_validity": "400d"}' noallow.json >long.json
install -m 0640 long.json "$D/warden.conf"
"$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" >long.log 2>&1
expect_eq 1 "$?" "serve refuses an acme.cert_validity beyond the server profile's max_validity"
expect_match "key=acme.cert_validity" "$(cat long.log)" "and names acme.cert_validity"
# --acme-allow stands in for the config's list
install -m 0640 noallow.json "$D/warden.conf"
wd_start "$D" --acme-listen "$ACME" --acme-allow localhost --acme-http01-port "$HTTP01" || exit 1
if lego_http --domains a.acme.test run >lego-flag.log 2>&1; then
    fail "--acme-allow replaces the list: acme.test is no longer allowed"
else
    expect_match "rejectedIdentifier" "$(cat lego-flag.log)" \
        "--acme-allow replaces the list: acme.test is no longer allowed"
fi
wd_stop

wd_finish
