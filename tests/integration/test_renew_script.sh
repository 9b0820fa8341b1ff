#!/usr/bin/env bash
# deploy/renew/warden-renew.sh against a real daemon: a certificate near its
# end is replaced by a newer one (same key, chains to ca.crt, same form and
# mode) and the service is reloaded; one far from its end is left alone; a
# refused renewal leaves the old file and reloads nothing.
source "$(dirname "$0")/lib.sh"
wd_setup
SRC=${WARDEN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
RENEW=$SRC/deploy/renew/warden-renew.sh
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null 2>&1 || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
API="https://$WD_API/api/v1"
mkdir -m 0755 svc

# issue NAME VALIDITY -> svc/NAME.crt (leaf), svc/NAME.key, svc/NAME.chain
issue() {
    wd_csr ecdsa-p256 "svc/$1" -subj "/CN=$1.svc.internal" 2>/dev/null
    jq -n --rawfile csr "svc/$1.csr" --arg v "$2" '{csr: $csr, validity: $v}' >"$1.json"
    wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @"$1.json" \
        "$API/certificates" | sed '$d' >"$1.out"
    jq -r .certificate "$1.out" >"svc/$1.crt"
    jq -r .chain "$1.out" >"svc/$1.chain"
}
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
end_of() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
certs_in() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }
# run the script for svc/NAME with extra VAR=value settings
renew() {
    local name=$1
    shift
    env WARDEN_RENEW_URL="https://$WD_API" WARDEN_RENEW_CERT="svc/$name.crt" \
        WARDEN_RENEW_KEY="svc/$name.key" WARDEN_RENEW_CACERT="$D/ca.crt" \
        "$@" sh "$RENEW" 2>&1
}

# a one-hour certificate, well within the default 30 days
issue web 1h
chmod 0640 svc/web.crt
old_serial=$(serial svc/web.crt)
old_end=$(end_of svc/web.crt)
out=$(renew web WARDEN_RENEW_RELOAD="touch $WD_TMP/reloaded")
expect_eq 0 $? "the script exits 0 after a renewal"
expect_match "renewed svc/web.crt: serial" "$out" "it says what it renewed"
[ "$(serial svc/web.crt)" != "$old_serial" ] && pass "the certificate file holds a new serial" ||
    fail "the certificate file holds a new serial"
[ "$(end_of svc/web.crt)" -gt "$old_end" ] && pass "the new certificate ends later" ||
    fail "the new certificate ends later: $(end_of svc/web.crt) <= $old_end"
expect_match ": OK$" "$(openssl verify -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" svc/web.crt 2>&1)" \
    "the new certificate verifies against ca.crt"
expect_eq "$(openssl pkey -in svc/web.key -pubout)" "$(openssl x509 -in svc/web.crt -noout -pubkey)" \
    "the new certificate holds the same key"
expect_eq "CN = web.svc.internal" "$(openssl x509 -in svc/web.crt -noout -subject -nameopt oneline | sed 's/^subject=//')" \
    "the new certificate has the same subject"
expect_eq 1 "$(certs_in svc/web.crt)" "a leaf-only file stays leaf-only"
expect_eq 640 "$(stat -c %a svc/web.crt)" "the file keeps its mode"
[ -e reloaded ] && pass "the reload command ran" || fail "the reload command ran"
expect_eq "" "$(find svc -name '.warden-renew.*')" "no temporary file is left behind"
new_serial=$(serial svc/web.crt)

# far from its end (the renewed one has the profile's 90 days): nothing
rm -f reloaded
out=$(renew web WARDEN_RENEW_RELOAD="touch $WD_TMP/reloaded")
expect_eq 0 $? "far from expiry the script exits 0"
expect_match "nothing to do" "$out" "far from expiry it says there is nothing to do"
expect_eq "$new_serial" "$(serial svc/web.crt)" "far from expiry the certificate is left alone"
[ -e reloaded ] && fail "far from expiry nothing is reloaded" || pass "far from expiry nothing is reloaded"
# (a day longer than the last one: renewed within the same second, the
# profile's default would end at the same second, which is no renewal)
out=$(renew web WARDEN_RENEW_DAYS=100 WARDEN_RENEW_VALIDITY=91d WARDEN_RENEW_RELOAD="touch $WD_TMP/reloaded")
expect_match "renewed" "$out" "WARDEN_RENEW_DAYS widens the window"
cp svc/web.crt web.before
out=$(renew web WARDEN_RENEW_DAYS=100)
expect_eq 1 $? "a new certificate that ends before the old one is refused"
expect_match "not after the old one" "$out" "and the script says so"
cmp -s web.before svc/web.crt && pass "the old certificate stays" || fail "the old certificate stays"

# a chain file stays a chain; the unit is reloaded with systemctl
issue api 1h
cat svc/api.chain >svc/api.crt
mkdir stub
printf '#!/bin/sh\necho "$@" >>"%s/systemctl.log"\n' "$WD_TMP" >stub/systemctl
chmod +x stub/systemctl
out=$(renew api PATH="$WD_TMP/stub:$PATH" WARDEN_RENEW_UNIT=api.service WARDEN_RENEW_VALIDITY=2h)
expect_match "renewed" "$out" "a chain file is renewed"
expect_eq 2 "$(certs_in svc/api.crt)" "a chain file gets the new chain (leaf and intermediate)"
expect_match ": OK$" "$(openssl verify -CAfile "$D/ca.crt" -untrusted svc/api.crt svc/api.crt 2>&1)" \
    "the new chain verifies against ca.crt"
expect_eq "reload api.service" "$(cat systemctl.log 2>/dev/null)" "WARDEN_RENEW_UNIT is reloaded with systemctl"
life=$(($(end_of svc/api.crt) - $(date -d "$(openssl x509 -in svc/api.crt -noout -startdate | cut -d= -f2)" +%s)))
expect_eq $((2 * 3600 + 300)) "$life" "WARDEN_RENEW_VALIDITY asks for the validity (2h, plus the 5 min backdating)"

# a revoked certificate is refused: the old file stays, nothing reloads
issue gone 1h
cp svc/gone.crt gone.before
out=$(wd_api "$D" admin -X POST "$API/certificates/$(jq -r .serial gone.out)/revoke")
expect_eq 200 "$(status_of "$out")" "revoke the next one"
rm -f reloaded
out=$(renew gone WARDEN_RENEW_RELOAD="touch $WD_TMP/reloaded")
expect_eq 1 $? "a refused renewal exits 1"
expect_match "renewal refused: HTTP 403" "$out" "it says the renewal was refused"
cmp -s gone.before svc/gone.crt && pass "a refused renewal leaves the old file" ||
    fail "a refused renewal leaves the old file"
[ -e reloaded ] && fail "a refused renewal reloads nothing" || pass "a refused renewal reloads nothing"
expect_eq "" "$(find svc -name '.warden-renew.*')" "no temporary file is left after a failure"

# no CA at that address
out=$(renew web WARDEN_RENEW_DAYS=100 WARDEN_RENEW_URL="https://127.0.0.1:$(wd_free_port)")
expect_eq 1 $? "an unreachable CA exits 1"
expect_match "cannot reach" "$out" "it says the CA cannot be reached"

# bad settings
out=$(renew web WARDEN_RENEW_DAYS=soon)
expect_eq 2 $? "a bad WARDEN_RENEW_DAYS exits 2"
out=$(renew web WARDEN_RENEW_CERT=svc/missing.crt)
expect_eq 2 $? "a missing certificate file exits 2"
out=$(renew web WARDEN_RENEW_VALIDITY='1", "csr": "x"d')
expect_eq 2 $? "a WARDEN_RENEW_VALIDITY that is no duration exits 2"

wd_finish
