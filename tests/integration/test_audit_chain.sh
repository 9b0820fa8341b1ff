#!/usr/bin/env bash
# The audit log's hash chain end to end: events written by issuance and
# revocation (API and CLI) verify with `warden audit verify`, beside a
# running daemon and after it stops; an attacker with the file who drops
# the append-only triggers and edits an event's detail, actor or outcome,
# or deletes an event, is named by event id and makes verify exit 1.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
DB=$D/warden.db
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
API="https://$WD_API/api/v1"

issue() { # issue NAME -> prints the serial
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1.svc.internal" 2>/dev/null
    wd_api "$D" admin --data-binary "@$1.csr" "$API/certificates" | sed '$d' | jq -r .serial
}
verify() { "$WARDEN_BIN" audit verify --dir "$D" 2>/dev/null; }

A=$(issue alpha)
B=$(issue bravo)
C=$(issue charlie)
expect_match '^[0-9a-f]+$' "$C" "three certificates are issued"
out=$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' \
    "$API/certificates/$A/revoke")
expect_eq 200 "$(status_of "$out")" "one is revoked through the API"
"$WARDEN_BIN" revoke --dir "$D" --reason superseded "$B" >/dev/null 2>&1
expect_eq 0 $? "one is revoked from the host"
n=$(sqlite3 "$DB" "select count(*) from audit")
out=$(verify)
expect_eq 0 $? "verify beside the running daemon exits 0"
expect_eq "audit log intact: $n events" "$out" "verify counts every event while serving"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly"
n=$(sqlite3 "$DB" "select count(*) from audit")
out=$(verify)
expect_eq 0 $? "verify after stop exits 0"
expect_eq "audit log intact: $n events" "$out" "verify counts every event after stop"
expect_eq "0000000000000000000000000000000000000000000000000000000000000000" \
    "$(sqlite3 "$DB" "select prev_hash from audit order by id limit 1")" \
    "the first event links to 64 zeros"
expect_eq 0 "$(sqlite3 "$DB" "select count(*) from audit a join audit b on b.id = a.id + 1
    where b.prev_hash is not a.hash")" "each event's prev_hash is its predecessor's hash"

# the triggers refuse an edit through SQL ...
expect_match "append-only" "$(sqlite3 "$DB" "update audit set detail = 'x'" 2>&1)" \
    "the append-only trigger refuses an UPDATE"
# ... so an attacker with the file drops them first
sqlite3 "$DB" "drop trigger audit_no_update; drop trigger audit_no_delete" || exit 1
revoke_id=$(sqlite3 "$DB" "select id from audit where serial = '$A' and action = 'revoke'")
expect_match '^[0-9]+$' "$revoke_id" "the API revocation has an audit event"
sqlite3 "$DB" "update audit set detail = 'unspecified' where id = $revoke_id" || exit 1
out=$(verify)
expect_eq 1 $? "verify exits 1 after a detail is edited"
expect_eq "audit log broken at event $revoke_id" "$out" "verify names the edited event"
sqlite3 "$DB" "update audit set detail = 'keyCompromise' where id = $revoke_id" || exit 1
out=$(verify)
expect_eq "audit log intact: $n events" "$out" "putting the detail back makes the log intact again"

issue_id=$(sqlite3 "$DB" "select id from audit where serial = '$C' and action = 'issue'")
sqlite3 "$DB" "update audit set actor = 'someone-else' where id = $issue_id" || exit 1
out=$(verify)
expect_eq 1 $? "verify exits 1 after an actor is edited"
expect_eq "audit log broken at event $issue_id" "$out" "verify names the event whose actor changed"
sqlite3 "$DB" "update audit set actor = 'admin' where id = $issue_id" || exit 1

outcome_id=$(sqlite3 "$DB" "select id from audit where serial = '$B' and action = 'issue'")
sqlite3 "$DB" "update audit set outcome = 'internal_error' where id = $outcome_id" || exit 1
out=$(verify)
expect_eq 1 $? "verify exits 1 after an outcome is edited"
expect_eq "audit log broken at event $outcome_id" "$out" "verify names the event whose outcome changed"
sqlite3 "$DB" "update audit set outcome = 'ok' where id = $outcome_id" || exit 1
expect_eq "audit log intact: $n events" "$(verify)" "the log is intact again before the deletion"

# a deleted event leaves a gap, named by the missing id
sqlite3 "$DB" "delete from audit where id = $issue_id" || exit 1
out=$(verify)
expect_eq 1 $? "verify exits 1 after an event is deleted"
expect_eq "audit log broken at event $issue_id" "$out" "verify names the deleted event"
expect_eq "$((n - 1))" "$(sqlite3 "$DB" "select count(*) from audit")" "the event is gone from the table"

wd_finish
