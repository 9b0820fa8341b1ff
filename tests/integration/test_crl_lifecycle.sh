#!/usr/bin/env bash
# The CRL's own life: rebuilt on a timer at half its validity with no
# revocation at all (a 4 s CRL gets a new number within ~3 s), and with
# crl_keep_expired off a revoked certificate leaves the CRL once it has
# expired (RFC 5280 5.1.2.6) while an unexpired one stays.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
jq '. + {crl_validity: "4s", crl_keep_expired: false}' "$D/warden.conf" >"$WD_TMP/conf" &&
    cp "$WD_TMP/conf" "$D/warden.conf"
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
crl_text() { curl -sS "http://$WD_PUB/crl" | openssl crl -inform DER -noout -text; }
number() { crl_text | sed -n '/CRL Number/{n;s/ //g;p}'; }

n1=$(number)
sleep 3.5
n2=$(number)
[ $((n2)) -gt $((n1)) ] && pass "the CRL is re-signed at half its validity without revocations ($n1 -> $n2)" ||
    fail "the CRL is re-signed at half its validity without revocations ($n1 -> $n2)"
nu=$(date -d "$(crl_text | sed -n 's/^ *Next Update: //p')" +%s)
[ $((nu - $(date +%s))) -le 4 ] && pass "nextUpdate follows crl_validity (4 s)" || fail "nextUpdate follows crl_validity (4 s)"

issue() { # issue NAME VALIDITY -> serial
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1.example" 2>/dev/null
    wd_api "$D" admin -H 'Content-Type: application/json' \
        --data-binary "$(jq -n --rawfile c "$1.csr" --arg v "$2" '{csr: $c, validity: $v}')" \
        "$API/certificates" | sed '$d' | jq -r .serial
}
short=$(issue short 3s)
long=$(issue long 1h)
wd_api "$D" admin -X POST "$API/certificates/$short/revoke" >/dev/null
wd_api "$D" admin -X POST "$API/certificates/$long/revoke" >/dev/null
text=$(crl_text)
expect_match "$(tr 'a-f' 'A-F' <<<"$short")" "$text" "a revoked certificate is listed while valid"
sleep 4 # the short one expires; the timer rebuilds the CRL meanwhile
text=$(crl_text)
expect_no_match "$(tr 'a-f' 'A-F' <<<"$short")" "$text" "with crl_keep_expired off, it leaves the CRL after expiry"
expect_match "$(tr 'a-f' 'A-F' <<<"$long")" "$text" "an unexpired revoked certificate stays listed"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly"
wd_finish
