#!/usr/bin/env bash
# warden init and first start: every key type, the data-dir files and their
# modes, the chain openssl accepts, refusing to overwrite a CA, serve
# self-initialising an empty dir, and serve never needing the root key.
source "$(dirname "$0")/lib.sh"
wd_setup

for kt in ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 ed25519; do
    d=$WD_TMP/ca-$kt
    out=$("$WARDEN_BIN" init --dir "$d" --key-type "$kt" --name "Test $kt" 2>&1)
    expect_eq 0 $? "init --key-type $kt exits 0"
    for f in ca.crt root.key intermediate.crt intermediate.key server.crt \
        server.key admin.crt admin.key warden.conf warden.db ocsp.crt ocsp.key root.crl; do
        [ -f "$d/$f" ] || fail "$kt: $f missing"
    done
    expect_eq 600 "$(stat -c %a "$d/admin.key")" "$kt: admin.key is mode 0600"
    expect_eq 600 "$(stat -c %a "$d/intermediate.key")" "$kt: intermediate.key is mode 0600"
    expect_eq 600 "$(stat -c %a "$d/root.key")" "$kt: root.key is mode 0600"
    expect_eq 700 "$(stat -c %a "$d")" "$kt: data dir is mode 0700"
    expect_match "move it offline" "$out" "$kt: init tells the operator to move the root key offline"
    v=$(openssl verify -CAfile "$d/ca.crt" -untrusted "$d/intermediate.crt" "$d/admin.crt" 2>&1)
    expect_eq "$d/admin.crt: OK" "$v" "$kt: openssl verifies admin.crt through the intermediate"
    v=$(openssl verify -CAfile "$d/ca.crt" -untrusted "$d/intermediate.crt" -purpose sslserver "$d/server.crt" 2>&1)
    expect_eq "$d/server.crt: OK" "$v" "$kt: the daemon's TLS certificate verifies as a server"
    inter=$(openssl x509 -in "$d/intermediate.crt" -noout -text)
    expect_match "CA:TRUE, pathlen:0" "$inter" "$kt: intermediate has pathlen 0"
    expect_match "Test $kt Intermediate CA" "$inter" "$kt: intermediate named after --name"
    expect_match "root.crl" "$inter" "$kt: intermediate carries the root's CRL distribution point"
    root=$(openssl x509 -in "$d/ca.crt" -noout -text)
    expect_match "Certificate Sign, CRL Sign" "$root" "$kt: root key usage is keyCertSign+cRLSign"
    admin=$(openssl x509 -in "$d/admin.crt" -noout -text)
    expect_match "TLS Web Client Authentication" "$admin" "$kt: admin cert is for client auth"
    fp=$(openssl x509 -in "$d/admin.crt" -outform DER | sha256sum | cut -d' ' -f1)
    expect_eq "$fp" "$(jq -r '.admins[0].fingerprint' "$d/warden.conf")" \
        "$kt: warden.conf lists the admin by certificate fingerprint"
    rows=$(sqlite3 "$d/warden.db" "select count(*) from certificates")
    expect_eq 3 "$rows" "$kt: the daemon's, the admin's and the OCSP responder's certificates are in the inventory"
    expect_eq 600 "$(stat -c %a "$d/ocsp.key")" "$kt: ocsp.key is mode 0600"
    ocsp=$(openssl x509 -in "$d/ocsp.crt" -noout -text)
    expect_match "OCSP Signing" "$ocsp" "$kt: the OCSP responder certificate is for OCSP signing"
    expect_match "OCSP No Check" "$ocsp" "$kt: the OCSP responder certificate carries ocsp-nocheck"
    v=$(openssl crl -inform DER -in "$d/root.crl" -noout -text -CAfile "$d/ca.crt" 2>&1)
    expect_match "verify OK" "$v" "$kt: init signed the root's CRL with the root key"
    expect_match "No Revoked Certificates" "$v" "$kt: the root's first CRL is empty"
    nu=$(date -d "$(openssl crl -inform DER -in "$d/root.crl" -noout -nextupdate | cut -d= -f2)" +%s)
    [ $((nu - $(date +%s))) -ge $((364 * 86400)) ] && pass "$kt: the root's CRL is good for a year" ||
        fail "$kt: the root's CRL is good for a year"
done

d=$WD_TMP/ca-ecdsa-p256
before=$(sha256sum "$d/ca.crt")
out=$("$WARDEN_BIN" init --dir "$d" 2>&1)
expect_eq 1 $? "init on an existing CA exits 1"
expect_match "already exists" "$out" "init on an existing CA says why"
expect_eq "$before" "$(sha256sum "$d/ca.crt")" "init on an existing CA leaves ca.crt alone"

out=$("$WARDEN_BIN" init --dir "$WD_TMP/x" --key-type dsa 2>&1)
expect_eq 2 $? "init with an unknown key type is a usage error"

out=$("$WARDEN_BIN" init --dir "$WD_TMP/y" --hosts 'bad host!' 2>&1)
expect_eq 1 $? "init with an invalid host name fails"

# serve on an empty dir initialises it and prints a ready-to-paste curl line
fresh=$WD_TMP/fresh
wd_start "$fresh"
expect_eq 0 $? "serve starts on an empty dir"
expect_match "curl --cacert $fresh/ca.crt --cert $fresh/admin.crt --key $fresh/admin.key" \
    "$(cat "$WD_LOG")" "serve prints a ready-to-paste curl command"
# paste exactly what serve printed: a CSR, issuance, openssl verify
mkdir -p "$WD_TMP/newuser"
sed -n '/^Try it:/,/^$/p' "$WD_LOG" | sed -n 's/^  //p' >"$WD_TMP/newuser/try.sh"
expect_eq 3 "$(wc -l <"$WD_TMP/newuser/try.sh" | tr -d ' ')" "serve prints three commands to try"
out=$(cd "$WD_TMP/newuser" && bash -e try.sh 2>&1)
expect_eq 0 $? "the printed commands run as they are"
expect_eq "my.crt: OK" "$(tail -n1 <<<"$out")" "the printed commands end with a certificate openssl verify accepts"
out=$(wd_api "$fresh" admin "https://$WD_API/api/v1/ca")
expect_eq 200 "$(status_of "$out")" "the admin credentials from self-init work"
expect_eq ecdsa-p256 "$(body_of "$out" | jq -r .key_type)" "self-init uses ecdsa-p256"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "serve exits 0 on SIGTERM"
expect_match "event=stopped" "$(cat "$WD_LOG")" "serve logs a clean stop"

# the root key can leave the machine: serve never reads it
mv "$fresh/root.key" "$WD_TMP/offline-root.key"
wd_start "$fresh"
expect_eq 0 $? "serve starts without root.key"
out=$(wd_api "$fresh" admin "https://$WD_API/api/v1/ca")
expect_eq 200 "$(status_of "$out")" "serve answers without root.key"
wd_stop

# a tampered config is refused, not silently defaulted
cp "$fresh/warden.conf" "$WD_TMP/conf.bak"
jq '. + {"max_validty": "1d"}' "$WD_TMP/conf.bak" >"$fresh/warden.conf.new" && mv "$fresh/warden.conf.new" "$fresh/warden.conf"
out=$("$WARDEN_BIN" serve --dir "$fresh" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" 2>&1)
expect_eq 1 $? "serve refuses a config with an unknown key"
expect_match "config" "$out" "serve says the config is invalid"

"$WARDEN_BIN" version | grep -Eq '^warden [0-9]+\.[0-9]+\.[0-9]+$'
expect_eq 0 $? "warden version prints the version"

wd_finish
