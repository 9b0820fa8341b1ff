#!/usr/bin/env bash
# Issuance end to end: CSRs of every accepted key type submitted with curl
# (raw PEM, DER, JSON), chains that openssl verify accepts, the extensions
# PRODUCT.md lists, list / get / cursor, the public objects, and a restart
# that keeps everything.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" --name "Issue Test" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1

declare -A SERIAL
for kt in ecdsa-p256 ecdsa-p384 rsa-2048 ed25519; do
    wd_csr "$kt" "$kt" -subj "/CN=$kt.svc.internal" \
        -addext "subjectAltName=DNS:$kt.svc.internal,IP:10.1.2.3,URI:spiffe://internal/ns/$kt" \
        2>/dev/null
    out=$(wd_api "$D" admin --data-binary "@$kt.csr" "https://$WD_API/api/v1/certificates")
    expect_eq 201 "$(status_of "$out")" "$kt: raw PEM CSR is issued (201)"
    body=$(body_of "$out")
    SERIAL[$kt]=$(jq -r .serial <<<"$body")
    expect_match '^[0-9a-f]{32}$' "${SERIAL[$kt]}" "$kt: serial is 128 bits of lowercase hex"
    jq -r .certificate <<<"$body" >"$kt.crt"
    jq -r .chain <<<"$body" >"$kt.chain.pem"
    v=$(openssl verify -CAfile "$D/ca.crt" -untrusted "$kt.chain.pem" "$kt.crt" 2>&1)
    expect_eq "$kt.crt: OK" "$v" "$kt: openssl verify accepts the returned chain"
    expect_eq 2 "$(grep -c 'BEGIN CERTIFICATE' "$kt.chain.pem")" "$kt: chain is leaf + intermediate"
    text=$(openssl x509 -in "$kt.crt" -noout -text)
    expect_match "Version: 3" "$text" "$kt: X.509 v3"
    expect_match "Basic Constraints: critical" "$text" "$kt: basicConstraints is critical"
    expect_match "CA:FALSE" "$text" "$kt: CA:FALSE"
    expect_match "Key Usage: critical" "$text" "$kt: keyUsage is critical"
    if [ "$kt" = rsa-2048 ]; then
        expect_match "Digital Signature, Key Encipherment" "$text" "$kt: RSA key usage"
    else
        expect_match "Digital Signature$" "$text" "$kt: EC/EdDSA key usage is digitalSignature"
    fi
    expect_match "TLS Web Server Authentication, TLS Web Client Authentication" "$text" \
        "$kt: default profile server-client has both EKUs"
    expect_match "Subject Key Identifier" "$text" "$kt: SKI"
    aki=$(openssl x509 -in "$kt.crt" -noout -ext authorityKeyIdentifier | tail -n1 | tr -d ' ')
    ski=$(openssl x509 -in "$D/intermediate.crt" -noout -ext subjectKeyIdentifier | tail -n1 | tr -d ' ')
    expect_eq "$ski" "${aki#keyid:}" "$kt: AKI is the intermediate's SKI"
    expect_match "URI:http://$WD_PUB/crl$" "$text" "$kt: CRL distribution point on the public listener"
    expect_match "OCSP - URI:http://$WD_PUB/ocsp" "$text" "$kt: AIA OCSP URL"
    expect_match "CA Issuers - URI:http://$WD_PUB/intermediate.crt" "$text" "$kt: AIA caIssuers URL"
    expect_match "DNS:$kt.svc.internal, IP Address:10.1.2.3, URI:spiffe://internal/ns/$kt" "$text" \
        "$kt: SANs from the CSR"
    expect_match "Issuer: .*Issue Test Intermediate CA" "$text" "$kt: issued by the intermediate"
    nb=$(date -d "$(openssl x509 -in "$kt.crt" -noout -startdate | cut -d= -f2)" +%s)
    na=$(date -d "$(openssl x509 -in "$kt.crt" -noout -enddate | cut -d= -f2)" +%s)
    now=$(date +%s)
    [ $((now - nb)) -ge 290 ] && [ $((now - nb)) -le 330 ] && pass "$kt: not_before is now - 5 min" ||
        fail "$kt: not_before is now - 5 min (off by $((now - nb)) s)"
    [ $((na - now)) -ge $((90 * 86400 - 60)) ] && [ $((na - now)) -le $((90 * 86400)) ] &&
        pass "$kt: default validity is 90 days" || fail "$kt: default validity is 90 days"
    expect_eq "$kt.svc.internal" "$(jq -r '.sans[0]' <<<"$body" | sed 's/^DNS://')" "$kt: JSON lists the SANs"
    expect_eq "$kt" "$(jq -r .key_type <<<"$body")" "$kt: JSON names the key type"
done

# a CSR that asks for CA:TRUE and keyCertSign gets neither
wd_csr ecdsa-p256 evil -subj "/CN=evil.svc.internal" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
out=$(wd_api "$D" admin --data-binary @evil.csr "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "a CSR asking for CA:TRUE is issued as a leaf"
text=$(body_of "$out" | jq -r .certificate | openssl x509 -noout -text)
expect_match "CA:FALSE" "$text" "requested CA:TRUE is ignored"
expect_no_match "Certificate Sign" "$text" "requested keyCertSign is ignored"
expect_match "DNS:evil.svc.internal" "$text" "a host-name CN with no SAN becomes a DNS SAN"

# DER body and the JSON form with profile and validity
openssl req -in ecdsa-p256.csr -outform DER -out p256.der
out=$(wd_api "$D" admin -H 'Content-Type: application/pkcs10' --data-binary @p256.der \
    "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "a DER CSR is issued"
json=$(jq -n --rawfile csr ecdsa-p256.csr '{csr: $csr, profile: "client", validity: "720h"}')
out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary "$json" \
    "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "the JSON form is issued"
expect_eq client "$(body_of "$out" | jq -r .profile)" "JSON profile is honoured"
text=$(body_of "$out" | jq -r .certificate | openssl x509 -noout -text)
expect_match "TLS Web Client Authentication" "$text" "client profile has clientAuth"
expect_no_match "TLS Web Server Authentication" "$text" "client profile lacks serverAuth"
na=$(date -d "$(body_of "$out" | jq -r .not_after)" +%s)
[ $((na - $(date +%s))) -le $((720 * 3600)) ] && [ $((na - $(date +%s))) -ge $((720 * 3600 - 60)) ] &&
    pass "JSON validity 720h is honoured" || fail "JSON validity 720h is honoured"
json=$(jq -n --rawfile csr ecdsa-p256.csr '{csr: $csr, profile: "server"}')
out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary "$json" \
    "https://$WD_API/api/v1/certificates")
text=$(body_of "$out" | jq -r .certificate | openssl x509 -noout -text)
expect_match "TLS Web Server Authentication" "$text" "server profile has serverAuth"
expect_no_match "TLS Web Client Authentication" "$text" "server profile lacks clientAuth"

# the PEM chain instead of JSON
out=$(wd_api "$D" admin -H 'Accept: application/pem-certificate-chain' --data-binary @ed25519.csr \
    -D headers.txt "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "Accept: application/pem-certificate-chain issues"
body_of "$out" >pemchain.pem
expect_eq 2 "$(grep -c 'BEGIN CERTIFICATE' pemchain.pem)" "the PEM body is leaf + intermediate"
v=$(openssl verify -CAfile "$D/ca.crt" -untrusted pemchain.pem pemchain.pem 2>&1)
expect_eq "pemchain.pem: OK" "$v" "the PEM chain verifies, leaf first"
expect_match "^Content-Type: application/pem-certificate-chain" "$(tr -d '\r' <headers.txt)" "PEM content type"
expect_match "^Location: /api/v1/certificates/[0-9a-f]{32}" "$(tr -d '\r' <headers.txt)" "201 carries a Location"

# every issued certificate is in the store, with its audit event
rows=$(sqlite3 "$D/warden.db" "select count(*) from certificates")
expect_eq 12 "$rows" "the store holds every issued certificate (3 from init + 9)"
for kt in "${!SERIAL[@]}"; do
    n=$(sqlite3 "$D/warden.db" "select count(*) from audit where serial='${SERIAL[$kt]}' and action='issue'")
    expect_eq 1 "$n" "$kt: issuance is in the audit log"
done

# list: newest first, limit and cursor walk every row exactly once
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates")
expect_eq 200 "$(status_of "$out")" "list answers 200"
expect_eq 12 "$(body_of "$out" | jq '.items | length')" "list shows all 12"
expect_eq "$(tr -d '\r' <headers.txt | sed -n 's#^Location: /api/v1/certificates/##p')" \
    "$(body_of "$out" | jq -r '.items[0].serial')" "list is newest first"
seen=""
cursor=""
pages=0
while :; do
    url="https://$WD_API/api/v1/certificates?limit=4${cursor:+&cursor=$cursor}"
    page=$(body_of "$(wd_api "$D" admin "$url")")
    seen+=$(jq -r '.items[].serial' <<<"$page")$'\n'
    cursor=$(jq -r '.next_cursor // empty' <<<"$page")
    pages=$((pages + 1))
    [ -z "$cursor" ] && break
    [ $pages -gt 10 ] && break
done
expect_eq 3 "$pages" "limit=4 pages 12 rows in 3 pages"
expect_eq 12 "$(grep -c . <<<"$seen" | tr -d ' ')" "the cursor walk sees 12 rows"
expect_eq 12 "$(grep . <<<"$seen" | sort -u | wc -l | tr -d ' ')" "the cursor walk sees each row once"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?q=ED25519.svc")
expect_eq 2 "$(body_of "$out" | jq '.items | length')" "q finds by SAN/CN substring, case-insensitive"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?q=${SERIAL[rsa-2048]:4:12}")
expect_eq "${SERIAL[rsa-2048]}" "$(body_of "$out" | jq -r '.items[0].serial')" "q finds by serial substring"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?status=valid&limit=1000")
expect_eq 12 "$(body_of "$out" | jq '.items | length')" "status=valid lists them all"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?status=revoked")
expect_eq 0 "$(body_of "$out" | jq '.items | length')" "status=revoked lists none"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?status=expiring&expiring_within=800h")
expect_eq "client ocsp-signing" "$(body_of "$out" | jq -r '[.items[].profile] | join(" ")')" \
    "expiring_within finds the 720h certificate and the week-long OCSP responder, nothing else"

# get one, as JSON and as PEM
s=${SERIAL[ecdsa-p384]}
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates/$s")
expect_eq 200 "$(status_of "$out")" "get by serial"
expect_eq "$s valid admin ecdsa-p384" \
    "$(body_of "$out" | jq -r '[.serial, .status, .requester, .key_type] | join(" ")')" \
    "get shows serial, status, requester and key type"
expect_eq "$(openssl x509 -in ecdsa-p384.crt -outform DER | sha256sum | cut -d' ' -f1)" \
    "$(body_of "$out" | jq -r .fingerprint_sha256)" "get shows the SHA-256 fingerprint"
diff <(body_of "$out" | jq -r .certificate) ecdsa-p384.crt >/dev/null &&
    pass "get returns the same certificate" || fail "get returns the same certificate"
out=$(wd_api "$D" admin -H 'Accept: application/pem-certificate-chain' "https://$WD_API/api/v1/certificates/$s")
expect_eq 2 "$(body_of "$out" | grep -c 'BEGIN CERTIFICATE')" "get as PEM chain"

# /api/v1/ca and the public listener
out=$(wd_api "$D" admin "https://$WD_API/api/v1/ca")
expect_eq "http://$WD_PUB/crl" "$(body_of "$out" | jq -r .crl_url)" "/api/v1/ca names the CRL URL"
expect_eq "http://$WD_PUB/ocsp" "$(body_of "$out" | jq -r .ocsp_url)" "/api/v1/ca names the OCSP URL"
diff <(curl -sS "http://$WD_PUB/ca.crt") "$D/ca.crt" >/dev/null &&
    pass "GET /ca.crt is the root" || fail "GET /ca.crt is the root"
diff <(curl -sS "http://$WD_PUB/chain.pem") <(cat "$D/intermediate.crt" "$D/ca.crt") >/dev/null &&
    pass "GET /chain.pem is intermediate + root" || fail "GET /chain.pem is intermediate + root"
curl -sS -D pubh.txt "http://$WD_PUB/intermediate.crt" -o inter.der
expect_match "application/pkix-cert" "$(cat pubh.txt)" "/intermediate.crt is application/pkix-cert"
diff <(openssl x509 -inform DER -in inter.der) <(openssl x509 -in "$D/intermediate.crt") >/dev/null &&
    pass "/intermediate.crt is the intermediate in DER" || fail "/intermediate.crt is the intermediate in DER"
expect_eq ok "$(curl -sS "http://$WD_PUB/healthz" | jq -r .status)" "/healthz is ok"

# curl with the chain served by the daemon: a TLS client trusting only ca.crt
out=$(curl -sS --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" \
    "https://localhost:${WD_API#*:}/api/v1/ca" -o /dev/null -w '%{http_code}')
expect_eq 200 "$out" "the daemon's certificate is valid for localhost"

# restart keeps everything
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "SIGTERM stops the daemon cleanly"
wd_start "$D" || exit 1
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates?limit=1000")
expect_eq 12 "$(body_of "$out" | jq '.items | length')" "after a restart the inventory is intact"
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates/${SERIAL[ed25519]}")
expect_eq 200 "$(status_of "$out")" "after a restart a certificate is served by serial"
expect_eq ok "$(sqlite3 "$D/warden.db" 'pragma integrity_check')" "the database passes integrity_check"
expect_eq wal "$(sqlite3 "$D/warden.db" 'pragma journal_mode')" "the database is in WAL mode"

wd_finish
