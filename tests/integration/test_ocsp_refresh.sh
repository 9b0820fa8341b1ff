#!/usr/bin/env bash
# Cached OCSP answers are re-signed in the background at half their
# life: with a 4 s validity, an answer fetched once is replaced within
# about 3 s without any further request, and the next fetch is served
# from the cache with the newer thisUpdate, still verifying.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
jq '. + {ocsp_validity: "4s"}' "$D/warden.conf" >"$WD_TMP/conf" && cp "$WD_TMP/conf" "$D/warden.conf"
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
PUB="http://$WD_PUB"

openssl ocsp -issuer "$D/intermediate.crt" -cert "$D/admin.crt" -no_nonce -reqout req.der 2>/dev/null
fetch() { # fetch N: the answer to req.der (GET form) in N.der, headers in N.h
    curl -sS -D "$1.h" "$PUB/ocsp/$(base64 -w0 req.der | jq -sRr @uri)" -o "$1.der"
}
this_update() { openssl ocsp -respin "$1.der" -noverify -resp_text 2>/dev/null | sed -n 's/^ *This Update: //p' | head -1; }

fetch first
t1=$(date -d "$(this_update first)" +%s)
sleep 3.5
expect_match "event=ocsp_refreshed" "$(cat "$WD_LOG")" "the answer was re-signed in the background"
fetch second
t2=$(date -d "$(this_update second)" +%s)
[ "$t2" -gt "$t1" ] && pass "the next answer has a newer thisUpdate ($t1 -> $t2)" ||
    fail "the next answer has a newer thisUpdate ($t1 -> $t2)"
out=$(openssl ocsp -respin second.der -issuer "$D/intermediate.crt" -cert "$D/admin.crt" \
    -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1)
expect_match "admin.crt: good" "$out" "the refreshed answer says good"
expect_match "Response verify OK" "$out" "and verifies"
expect_match "^Cache-Control: public, max-age=[0-4]," "$(tr -d '\r' <second.h)" \
    "its max-age is bound to the 4 s validity"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly"
wd_finish
