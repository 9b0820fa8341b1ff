#!/usr/bin/env bash
# `warden list` from the host, beside a running daemon: --expiring 30d
# lists the valid certificates that expire within 30 days, soonest first
# (one issued for 72h and the daemon's own 7-day OCSP responder
# certificate), never the 90-day ones, and exits 3 so cron can alert;
# with nothing expiring it prints nothing and exits 0. --json is one JSON
# array with the API's members and days_left; it lists what the API
# lists; --status and --limit filter; bad options exit 2.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
API="https://$WD_API/api/v1"
list() { "$WARDEN_BIN" list --dir "$D" "$@" 2>/dev/null; }

# issue NAME VALIDITY: prints the serial
issue() {
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1" 2>/dev/null
    jq -n --rawfile csr "$1.csr" --arg v "$2" '{csr: $csr, validity: $v}' |
        wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @- \
            "$API/certificates" | sed '$d' | jq -r .serial
}
SHORT=$(issue short.svc.internal 72h)
LONG1=$(issue long1.svc.internal 2160h)
LONG2=$(issue long2.svc.internal 2160h)
expect_match '^[0-9a-f]+$' "$LONG2" "three certificates are issued (72h, 2160h, 2160h)"
OCSP=$(sqlite3 "$D/warden.db" "select serial from certificates where requester = 'warden'")
expect_match '^[0-9a-f]+$' "$OCSP" "the daemon's OCSP responder certificate is in the store"

out=$(list --expiring 30d)
expect_eq 3 $? "--expiring 30d exits 3 when it lists certificates"
expect_match '^SERIAL +CN +NOT_AFTER +DAYS +STATUS +REQUESTER$' "$(head -n 1 <<<"$out")" \
    "the table has a header"
expect_eq 3 "$(wc -l <<<"$out")" "the table lists two certificates"
# 72h from issuance: 3 whole days left in its first second, 2 after
expect_match "^$SHORT +short\.svc\.internal +[0-9-]{10}T[0-9:]{8}Z +[23] +expiring +admin$" \
    "$(sed -n 2p <<<"$out")" "the 72h certificate comes first: RFC 3339 expiry, days left"
expect_match "^$OCSP .* +[67] +expiring +warden$" "$(sed -n 3p <<<"$out")" \
    "the 7-day OCSP responder certificate comes next"
expect_no_match "$LONG1|$LONG2" "$out" "the 90-day certificates are not listed"
# where each line's expiry starts: the header's NOT_AFTER, the rows' date
at() {
    local line pre
    while IFS= read -r line; do
        pre=${line%%NOT_AFTER*}
        [ "$pre" = "$line" ] && pre=${line%%[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*}
        echo "${#pre}"
    done <<<"$1" | sort -u | wc -l
}
expect_eq 1 "$(at "$out")" "the NOT_AFTER column lines up, a long CN included"

json=$(list --expiring 30d --json)
expect_eq 3 $? "--json --expiring 30d exits 3 too"
expect_eq "array 2" "$(jq -r '"\(type) \(length)"' <<<"$json")" "--json is one array that jq reads"
expect_match "^$SHORT expiring [23] short.svc.internal$" \
    "$(jq -r '.[0] | "\(.serial) \(.status) \(.days_left) \(.cn)"' <<<"$json")" \
    "its first item is the 72h certificate"
expect_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$(jq -r '.[0].not_after' <<<"$json")" \
    "not_after is RFC 3339"
expect_eq "$(wd_api "$D" admin "$API/certificates?status=expiring&expiring_within=30d" | sed '$d' |
    jq -r '[.items[].serial] | sort | join(" ")')" "$(jq -r '[.[].serial] | sort | join(" ")' <<<"$json")" \
    "it lists what the API lists for status=expiring&expiring_within=30d"
api_keys=$(wd_api "$D" admin "$API/certificates?limit=1" | sed '$d' | jq -r '.items[0] | keys | join(" ")')
expect_eq "$api_keys days_left" "$(jq -r '.[0] | del(.days_left) | keys | join(" ")' <<<"$json") days_left" \
    "its items have the API's members, and days_left"

out=$(list --expiring 1d)
expect_eq 0 $? "--expiring 1d exits 0 when nothing expires"
expect_eq "" "$out" "and prints nothing, so cron mails nothing"
expect_eq "[]" "$(list --expiring 1d --json)" "--json prints an empty array"

json=$(list --json)
expect_eq 0 $? "list without --expiring exits 0"
expect_eq "$(sqlite3 "$D/warden.db" 'select count(*) from certificates')" "$(jq length <<<"$json")" \
    "list --json lists every certificate"
expect_eq "$LONG2 $LONG1" "$(list --json --limit 2 | jq -r '[.[].serial] | join(" ")')" \
    "--limit 2 gives the two newest, newest first"
expect_eq 0 "$(list --status expiring >/dev/null; echo $?)" "--status expiring (the configured window) exits 0"
expect_eq "$SHORT $OCSP" "$(list --status expiring --json | jq -r '[.[].serial] | join(" ")')" \
    "--status expiring lists by expiry within the configured 30 days"

out=$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "superseded"}' \
    "$API/certificates/$LONG1/revoke")
expect_eq 200 "$(status_of "$out")" "a 90-day certificate is revoked"
expect_eq "$LONG1 revoked superseded" \
    "$(list --status revoked --json | jq -r '.[] | "\(.serial) \(.status) \(.revocation.reason)"')" \
    "--status revoked lists it with its reason"
expect_match "^$LONG1 .* revoked +admin$" "$(list --status revoked | sed -n 2p)" "and the table says revoked"

"$WARDEN_BIN" list --dir "$D" --expiring soon >/dev/null 2>&1
expect_eq 2 $? "--expiring soon is bad usage (exit 2)"
"$WARDEN_BIN" list --dir "$D" --status bogus >/dev/null 2>&1
expect_eq 2 $? "--status bogus is bad usage"
"$WARDEN_BIN" list --dir "$D" --expiring 30d --status revoked >/dev/null 2>&1
expect_eq 2 $? "--expiring with another --status is bad usage"
"$WARDEN_BIN" list --dir "$D" --limit 0 >/dev/null 2>&1
expect_eq 2 $? "--limit 0 is bad usage"
"$WARDEN_BIN" list --dir "$WD_TMP/nothing" >/dev/null 2>&1
expect_eq 1 $? "a dir without a database exits 1"
expect_eq "" "$(ls "$WD_TMP/nothing" 2>/dev/null)" "and nothing is created there"

wd_finish
