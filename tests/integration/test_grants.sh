#!/usr/bin/env bash
# Who may do what, with real certificates: admins, readers and services;
# grants for name patterns with profiles and a maximum validity; services
# acting on themselves only (read, renew, revoke); the audit log of
# issuance, renewal, revocation and refusals; and a config that is
# refused with the place of its mistake.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
jq '. + {
  readers: [{name: "auditor", cn: "auditor"}],
  grants: [{name: "deploy-bot", cn: "deploy-bot", names: ["*.svc.internal"],
            profiles: ["server", "server-client"], max_validity: "30d"}],
  profiles: {client: {default_validity: "30d", max_validity: "90d"}}
}' "$D/warden.conf" >"$WD_TMP/conf.new" && cp "$WD_TMP/conf.new" "$D/warden.conf"
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
rows() { sqlite3 "$D/warden.db" "select count(*) from certificates"; }

# issue NAME PROFILE [as WHO] [validity]: NAME.key/.csr/.crt; prints the HTTP
# status, body in NAME.out
issue() {
    local name=$1 profile=$2 who=${3:-admin} validity=${4:-} dir
    wd_csr ecdsa-p256 "$name" -subj "/CN=$name" 2>/dev/null
    jq -n --rawfile csr "$name.csr" --arg p "$profile" --arg v "$validity" \
        '{csr: $csr, profile: $p} + (if $v == "" then {} else {validity: $v} end)' >"$name.json"
    dir=$([ "$who" = admin ] && echo "$D" || echo .)
    out=$(wd_api "$dir" "$who" -H 'Content-Type: application/json' --data-binary @"$name.json" \
        "$API/certificates")
    body_of "$out" >"$name.out"
    [ "$(status_of "$out")" = 201 ] && jq -r .certificate "$name.out" >"$name.crt"
    status_of "$out"
}

expect_eq 201 "$(issue svc-a.internal server-client)" "the admin issues svc-a.internal"
A=$(jq -r .serial svc-a.internal.out)
expect_eq 201 "$(issue deploy-bot client)" "the admin issues the deploy-bot identity"
expect_eq 201 "$(issue auditor client)" "the admin issues the auditor identity"
na=$(date -d "$(jq -r .not_after auditor.out)" +%s)
[ $((na - $(date +%s))) -le $((30 * 86400)) ] && [ $((na - $(date +%s))) -ge $((30 * 86400 - 60)) ] &&
    pass "the client profile's default validity (30d) applies" || fail "the client profile's default validity (30d) applies"
out=$(wd_api "$D" admin -H 'Content-Type: application/json' \
    --data-binary "$(jq -n --rawfile csr auditor.csr '{csr: $csr, profile: "client", validity: "120d"}')" "$API/certificates")
expect_error "$out" 400 invalid_validity "the client profile's maximum (90d) is enforced"

# a service: itself only
before=$(rows)
expect_eq 403 "$(issue svc-b.internal server-client svc-a.internal)" "svc-a may not issue for svc-b.internal"
expect_eq name_not_allowed "$(jq -r .error.code svc-b.internal.out)" "and the code is name_not_allowed"
expect_eq "$before" "$(rows)" "nothing is stored for the refused issuance"
expect_error "$(wd_api . svc-a.internal "$API/certificates")" 403 forbidden "svc-a may not list"
expect_error "$(wd_api . svc-a.internal -X POST "$API/certificates/$(jq -r .serial deploy-bot.out)/revoke")" \
    403 forbidden "svc-a may not revoke another serial"
expect_eq 200 "$(status_of "$(wd_api . svc-a.internal "$API/certificates/$A")")" "svc-a reads its own certificate"

# renewal keeps the names and, without a CSR, the key
out=$(wd_api . svc-a.internal -X POST "$API/renew")
expect_eq 201 "$(status_of "$out")" "svc-a renews itself"
body_of "$out" | jq -r .certificate >renewed.crt
expect_eq "$(openssl x509 -in svc-a.internal.crt -noout -subject)" "$(openssl x509 -in renewed.crt -noout -subject)" \
    "the renewal keeps the subject"
expect_eq "$(openssl x509 -in svc-a.internal.crt -noout -ext subjectAltName | tail -n1)" \
    "$(openssl x509 -in renewed.crt -noout -ext subjectAltName | tail -n1)" "the renewal keeps the SANs"
expect_eq "$(openssl x509 -in svc-a.internal.crt -noout -pubkey)" "$(openssl x509 -in renewed.crt -noout -pubkey)" \
    "without a CSR the renewal keeps the key"
expect_match "TLS Web Server Authentication, TLS Web Client Authentication" \
    "$(openssl x509 -in renewed.crt -noout -ext extendedKeyUsage)" "the renewal keeps the profile"
v=$(openssl verify -CAfile "$D/ca.crt" -untrusted "$D/intermediate.crt" renewed.crt)
expect_eq "renewed.crt: OK" "$v" "the renewed certificate verifies"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rekey.key -out rekey.csr \
    -subj "/CN=svc-a.internal" 2>/dev/null
out=$(wd_api . svc-a.internal --data-binary @rekey.csr "$API/renew")
expect_eq 201 "$(status_of "$out")" "svc-a renews with a new key"
expect_eq "$(openssl pkey -in rekey.key -pubout)" "$(body_of "$out" | jq -r .certificate | openssl x509 -noout -pubkey)" \
    "the rekeyed certificate carries the new key"
openssl req -new -key rekey.key -out other.csr -subj "/CN=svc-b.internal" 2>/dev/null
expect_error "$(wd_api . svc-a.internal --data-binary @other.csr "$API/renew")" 403 name_not_allowed \
    "a renewal CSR with other names is refused"
expect_eq 2 "$(sqlite3 "$D/warden.db" "select count(*) from audit where action='renew' and actor='svc-a.internal'")" \
    "both renewals are in the audit log"

# revoking itself works, and its next request is refused
expect_eq 200 "$(status_of "$(wd_api . svc-a.internal -X POST "$API/certificates/$A/revoke")")" \
    "svc-a revokes its own certificate"
expect_error "$(wd_api . svc-a.internal "$API/ca")" 403 client_certificate_invalid \
    "the revoked certificate's next request is refused"

# a grant: deploy-bot may issue *.svc.internal, one label deep, server profiles
expect_eq 201 "$(issue x.svc.internal server deploy-bot)" "deploy-bot issues x.svc.internal"
na=$(date -d "$(jq -r .not_after x.svc.internal.out)" +%s)
[ $((na - $(date +%s))) -le $((30 * 86400)) ] && [ $((na - $(date +%s))) -ge $((30 * 86400 - 60)) ] &&
    pass "without a validity, a grant's issuance is clipped to the grant's 30d" ||
    fail "without a validity, a grant's issuance is clipped to the grant's 30d"
expect_eq deploy-bot "$(body_of "$(wd_api "$D" admin "$API/certificates/$(jq -r .serial x.svc.internal.out)")" | jq -r .requester)" \
    "the inventory names deploy-bot as the requester"
expect_eq 403 "$(issue x.other.internal server deploy-bot)" "deploy-bot may not issue x.other.internal"
expect_eq name_not_allowed "$(jq -r .error.code x.other.internal.out)" "refused as name_not_allowed"
expect_match "x.other.internal" "$(jq -r .error.message x.other.internal.out)" "the error names the name"
expect_eq 403 "$(issue a.b.svc.internal server deploy-bot)" "deploy-bot may not issue a.b.svc.internal"
expect_eq 403 "$(issue y.svc.internal client deploy-bot)" "deploy-bot may not use a profile its grant lacks"
expect_eq 400 "$(issue z.svc.internal server deploy-bot 60d)" "deploy-bot may not exceed its grant's 30d"
expect_eq invalid_validity "$(jq -r .error.code z.svc.internal.out)" "refused as invalid_validity"
expect_eq 0 "$(sqlite3 "$D/warden.db" "select count(*) from certificates where cn in ('x.other.internal','a.b.svc.internal','y.svc.internal','z.svc.internal')")" \
    "nothing refused was stored"

# a reader: list and read, nothing else
expect_eq 200 "$(status_of "$(wd_api . auditor "$API/certificates")")" "the reader lists the inventory"
expect_eq 200 "$(status_of "$(wd_api . auditor "$API/certificates/$A")")" "the reader reads any certificate"
expect_eq 403 "$(issue r.svc.internal server auditor)" "the reader may not issue"
expect_error "$(wd_api . auditor -X POST "$API/certificates/$(jq -r .serial x.svc.internal.out)/revoke")" \
    403 forbidden "the reader may not revoke"
expect_error "$(wd_api . auditor "$API/audit")" 403 forbidden "the reader may not read the audit log"

# the audit log
out=$(wd_api "$D" admin "$API/audit?limit=1000")
expect_eq 200 "$(status_of "$out")" "the admin reads the audit log"
log=$(body_of "$out")
expect_match '"action":"issue"' "$log" "issuance is audited"
expect_match '"action":"renew"' "$log" "renewal is audited"
expect_match '"action":"revoke"' "$log" "revocation is audited"
expect_eq true "$(jq '[.items[] | select(.actor == "deploy-bot" and .outcome == "name_not_allowed")] | length >= 2' <<<"$log")" \
    "deploy-bot's refusals are audited with their code"
expect_eq true "$(jq '[.items[] | select(.actor == "svc-a.internal" and .outcome == "forbidden")] | length >= 2' <<<"$log")" \
    "svc-a's refusals are audited"
out=$(wd_api "$D" admin "$API/audit?actor=deploy-bot&limit=2")
expect_eq 2 "$(body_of "$out" | jq '.items | length')" "the audit log filters by actor and pages"
cursor=$(body_of "$out" | jq -r .next_cursor)
out=$(wd_api "$D" admin "$API/audit?actor=deploy-bot&limit=2&cursor=$cursor")
expect_eq 200 "$(status_of "$out")" "the audit log's cursor works"
expect_error "$(wd_api "$D" admin "$API/audit?colour=red")" 400 invalid_query "an unknown audit filter is refused"
expect_error "$(wd_api . deploy-bot "$API/audit")" 403 forbidden "a service may not read the audit log"
wd_stop

# a malformed config is refused at start, saying where
cp "$D/warden.conf" good.conf
jq '.grants[0].names = []' good.conf >"$D/warden.conf"
out=$("$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" 2>&1)
expect_eq 1 $? "a grant without names is refused at start"
expect_match "key=grants\[0\]" "$out" "the refusal names the grant"
printf '{\n  "admins": [\n    {"name": "x",, }\n  ]\n}\n' >"$D/warden.conf"
out=$("$WARDEN_BIN" serve --dir "$D" --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" 2>&1)
expect_eq 1 $? "a config with a syntax error is refused"
expect_match "line=3" "$out" "the refusal names the line"
cp good.conf "$D/warden.conf"
wd_finish
