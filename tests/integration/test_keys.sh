#!/usr/bin/env bash
# Key protection (PRODUCT: "Private keys on disk are mode 0600 and may be
# encrypted with a passphrase; a PKCS#11 URL can stand in for the
# intermediate key file"): serve refuses keys and a data dir open to
# others; an encrypted PKCS#8 intermediate key works with its passphrase
# from a file or an environment variable and is refused without it; and
# with SoftHSM2, `warden key-import` moves the key into a token, after
# which certificates, CRLs and OCSP answers are signed through PKCS#11.
source "$(dirname "$0")/lib.sh"
wd_setup
cd "$WD_TMP" || exit 1
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

# refused DIR WHAT REGEX: serve exits 1 at start and the log says REGEX.
refused() {
    local out status
    out=$(timeout 30 "$WARDEN_BIN" serve --dir "$1" --listen "127.0.0.1:$(wd_free_port)" \
        --public-listen "127.0.0.1:$(wd_free_port)" 2>&1)
    status=$?
    expect_eq 1 "$status" "$2: serve exits 1"
    expect_match "$3" "$out" "$2: the log says why"
}

# conf DIR JQ-FILTER: edit warden.conf.
conf() {
    jq "$2" "$1/warden.conf" >"$1/warden.conf.new" && mv "$1/warden.conf.new" "$1/warden.conf"
}

# issue DIR NAME: a certificate from the running daemon -> NAME.crt; prints the serial.
issue() {
    wd_csr ecdsa-p256 "$2" -subj "/CN=$2.svc.internal" 2>/dev/null
    jq -n --rawfile csr "$2.csr" '{csr: $csr}' >"$2.json"
    wd_api "$1" admin -H 'Content-Type: application/json' --data-binary @"$2.json" \
        "https://$WD_API/api/v1/certificates" | sed '$d' >"$2.out"
    jq -r .certificate "$2.out" >"$2.crt"
    jq -r .serial "$2.out"
}

verify_leaf() { # verify_leaf DIR NAME WHAT
    expect_match ": OK$" "$(openssl verify -CAfile "$1/ca.crt" -untrusted "$1/intermediate.crt" \
        "$2.crt" 2>&1)" "$3"
}

# --- permissions ---------------------------------------------------------
D=$WD_TMP/perm
"$WARDEN_BIN" init --dir "$D" >/dev/null 2>&1 || exit 1
expect_eq 600 "$(stat -c %a "$D/intermediate.key")" "init writes intermediate.key 0600"
expect_eq 700 "$(stat -c %a "$D")" "init makes the data dir 0700"
chmod 640 "$D/intermediate.key"
refused "$D" "a group-readable intermediate.key" "key_file_unprotected path=.*intermediate.key mode=0640"
chmod 604 "$D/intermediate.key"
refused "$D" "a world-readable intermediate.key" "key_file_unprotected.*intermediate.key"
chmod 600 "$D/intermediate.key"
chmod 660 "$D/server.key"
refused "$D" "a group-accessible server.key" "key_file_unprotected.*server.key"
chmod 600 "$D/server.key"
chmod 644 "$D/ocsp.key"
refused "$D" "a world-readable ocsp.key" "key_file_unprotected.*ocsp.key"
chmod 600 "$D/ocsp.key"
chmod 777 "$D"
refused "$D" "a world-writable data dir" "data_dir_unprotected"
chmod 770 "$D"
refused "$D" "a group-writable data dir" "data_dir_unprotected"
chmod 700 "$D"
out=$(timeout 30 "$WARDEN_BIN" crl --dir "$D" --out /dev/null 2>&1 && chmod 640 "$D/intermediate.key" &&
    timeout 30 "$WARDEN_BIN" crl --dir "$D" --out /dev/null 2>&1)
expect_match "key_file_unprotected" "$out" "warden crl refuses a group-readable key too"
chmod 600 "$D/intermediate.key"
if wd_start "$D"; then pass "serve starts once the modes are fixed"; else fail "serve starts once the modes are fixed"; fi
wd_stop

# --- an encrypted intermediate key -------------------------------------
E=$WD_TMP/enc
"$WARDEN_BIN" init --dir "$E" >/dev/null 2>&1 || exit 1
printf 'correct horse battery staple\n' >pass.txt
chmod 600 pass.txt
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$E/intermediate.key" -out enc.key -passout file:pass.txt
mv enc.key "$E/intermediate.key"
chmod 600 "$E/intermediate.key"
expect_match "BEGIN ENCRYPTED PRIVATE KEY" "$(head -1 "$E/intermediate.key")" "the key is encrypted PKCS#8"
refused "$E" "an encrypted key without a passphrase" "encrypted .*no passphrase is configured"
conf "$E" ". + {intermediate_key_passphrase_file: \"$WD_TMP/pass.txt\"}"
if wd_start "$E"; then
    serial=$(issue "$E" enc1)
    expect_match '^[0-9a-f]{32}$' "$serial" "serve issues with the decrypted key"
    verify_leaf "$E" enc1 "openssl verify accepts a certificate signed by the decrypted key"
    expect_match "source=intermediate.key encrypted=yes" "$(cat "$WD_LOG")" "the log says the key was encrypted"
    expect_no_match "correct horse" "$(cat "$WD_LOG")" "the passphrase never reaches the log"
    wd_stop
else
    fail "serve starts with the passphrase file"
fi
expect_match "BEGIN X509 CRL" "$(timeout 30 "$WARDEN_BIN" crl --dir "$E" --out - | openssl crl -inform DER \
    -CAfile "$E/intermediate.crt" 2>&1)" "warden crl loads the encrypted key the same way"
chmod 640 pass.txt
refused "$E" "a group-readable passphrase file" "key_file_unprotected.*pass.txt"
printf 'wrong\n' >bad.txt
chmod 600 bad.txt
conf "$E" ". + {intermediate_key_passphrase_file: \"$WD_TMP/bad.txt\"}"
refused "$E" "a wrong passphrase" "wrong passphrase"
conf "$E" "del(.intermediate_key_passphrase_file) + {intermediate_key_passphrase_env: \"WARDEN_KEY_PASSPHRASE\"}"
unset WARDEN_KEY_PASSPHRASE
refused "$E" "an unset passphrase variable" "passphrase_missing env=WARDEN_KEY_PASSPHRASE"
export WARDEN_KEY_PASSPHRASE="correct horse battery staple"
if wd_start "$E"; then
    issue "$E" enc2 >/dev/null
    verify_leaf "$E" enc2 "the passphrase from an environment variable works"
    wd_stop
else
    fail "serve starts with the passphrase variable"
fi
export WARDEN_KEY_PASSPHRASE=nope
refused "$E" "a wrong passphrase in the variable" "wrong passphrase"
unset WARDEN_KEY_PASSPHRASE
conf "$E" ". + {intermediate_key_passphrase_file: \"x\"}"
refused "$E" "both a passphrase file and a variable" "not both"

# --- PKCS#11 with SoftHSM2 ---------------------------------------------
if ! command -v softhsm2-util >/dev/null || [ ! -f "$SOFTHSM_MODULE" ]; then
    fail "SoftHSM2 is installed (Debian package softhsm2)"
    wd_finish
    exit
fi
mkdir -p tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WD_TMP" >softhsm2.conf
export SOFTHSM2_CONF=$WD_TMP/softhsm2.conf
softhsm2-util --init-token --free --label warden --so-pin 0000 --pin 4321 >/dev/null || exit 1
H=$WD_TMP/hsm
"$WARDEN_BIN" init --dir "$H" >/dev/null 2>&1 || exit 1
printf '4321\n' >"$H/token.pin"
chmod 600 "$H/token.pin"
conf "$H" '. + {ocsp_responder: "intermediate", intermediate_key_passphrase_file: "token.pin"}'
out=$("$WARDEN_BIN" key-import --dir "$H" --pkcs11-url "pkcs11:token=warden" \
    --pkcs11-module "$SOFTHSM_MODULE" 2>&1)
expect_eq 0 "$?" "key-import succeeds"
expect_match "best effort" "$out" "key-import says the wipe is best effort"
if [ -e "$H/intermediate.key" ]; then fail "intermediate.key is gone from the data dir"; else pass "intermediate.key is gone from the data dir"; fi
expect_match "^pkcs11:.*token=warden" "$(jq -r .intermediate_key "$H/warden.conf")" "warden.conf points at the token"
expect_eq "$SOFTHSM_MODULE" "$(jq -r .pkcs11_module "$H/warden.conf")" "warden.conf names the module"
expect_match "warden-intermediate" "$(p11tool --provider "$SOFTHSM_MODULE" --login --set-pin 4321 --list-privkeys \
    "pkcs11:token=warden" 2>/dev/null)" "the token holds the private key"
expect_no_match "BEGIN" "$(p11tool --provider "$SOFTHSM_MODULE" --login --set-pin 4321 \
    --export "pkcs11:token=warden;type=private" 2>/dev/null)" "the token does not hand the key out"
if wd_start "$H"; then
    expect_match "source=pkcs11" "$(cat "$WD_LOG")" "serve loads the key from the token"
    serial=$(issue "$H" hsm1)
    verify_leaf "$H" hsm1 "openssl verify accepts a certificate signed through PKCS#11"
    issue "$H" hsm2 >/dev/null
    out=$(wd_api "$H" admin -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' \
        "https://$WD_API/api/v1/certificates/$serial/revoke")
    expect_eq 200 "$(status_of "$out")" "revoking through the token-backed CA answers 200"
    sleep 1.5
    curl -sS "http://$WD_PUB/crl" -o hsm.crl
    text=$(openssl crl -inform DER -in hsm.crl -noout -text -CAfile "$H/intermediate.crt" 2>&1)
    expect_match "verify OK" "$text" "openssl crl verifies the CRL signed through PKCS#11"
    expect_match "Serial Number: ${serial^^}" "$text" "the CRL lists the revoked certificate"
    ocsp() {
        openssl ocsp -issuer "$H/intermediate.crt" -cert "$1" -url "http://$WD_PUB/ocsp" \
            -CAfile "$H/ca.crt" -verify_other "$H/intermediate.crt" 2>&1
    }
    out=$(ocsp hsm1.crt)
    expect_match "Response verify OK" "$out" "the OCSP answer signed through PKCS#11 verifies"
    expect_match "hsm1.crt: revoked" "$out" "OCSP says the revoked certificate is revoked"
    expect_match "hsm2.crt: good" "$(ocsp hsm2.crt)" "OCSP says the other certificate is good"
    wd_stop
    expect_eq 0 "$WD_STOP_STATUS" "serve with a token key stops cleanly"
else
    fail "serve starts with the key in the token"
fi
expect_match "BEGIN X509 CRL" "$(timeout 30 "$WARDEN_BIN" crl --dir "$H" --out - | openssl crl -inform DER \
    -CAfile "$H/intermediate.crt" 2>&1)" "warden crl signs through the token too"
printf '9999\n' >"$H/token.pin"
refused "$H" "a wrong token PIN" "event=signer_load what=pkcs11_key"
wd_finish
