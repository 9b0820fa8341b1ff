#!/usr/bin/env bash
# The daemon's log: one JSON object per line when stderr is not a
# terminal (jq reads every line), with the request id, identity, caller's
# serial, status and duration on each request's completion line, and the
# same request id in the X-Request-Id header; key=value text when stderr
# is a terminal; WARDEN_LOG_FORMAT overrides either way. The public
# listener's answered requests are debug lines; WARDEN_LOG_LEVEL picks the
# lowest level written.
source "$(dirname "$0")/lib.sh"
unset WARDEN_LOG_FORMAT # lib.sh asks for text; this test wants the default
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null 2>&1 || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
strip0() { tr 'A-F' 'a-f' | sed 's/^0*//'; }

wd_csr ecdsa-p256 web -subj /CN=web.svc.internal 2>/dev/null
out=$(wd_api "$D" admin -D issue.h --data-binary @web.csr "$API/certificates")
expect_eq 201 "$(status_of "$out")" "the admin issues a certificate"
serial=$(body_of "$out" | jq -r .serial)
rid=$(tr -d '\r' <issue.h | sed -n 's/^X-Request-Id: //ip')
expect_match '^[0-9a-f]{8}-[0-9]+$' "$rid" "the answer carries X-Request-Id"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$WD_PUB/no-such-path")
expect_eq 404 "$code" "a public request is answered too"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$WD_PUB/crl")
expect_eq 200 "$code" "the CRL is served"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "serve exits 0 on SIGTERM"

lines=$(wc -l <"$WD_LOG")
parsed=$(jq -c . "$WD_LOG" 2>jq.err | wc -l)
expect_eq "$lines" "$parsed" "every line of the log is one JSON object ($lines lines)"
expect_eq "" "$(cat jq.err)" "jq reads the whole log without an error"
expect_eq "$lines" "$(jq -r 'select((.time | test("^[0-9-]+T[0-9:.]+Z$")) and (.level | type) == "string" and (.event | type) == "string") | 1' "$WD_LOG" | wc -l)" \
    "every line has time, level and event"

line=$(jq -c --arg r "$rid" 'select(.event == "request" and .request_id == $r)' "$WD_LOG")
expect_match . "$line" "the completion line carries the X-Request-Id value as request_id"
expect_eq "admin 201 POST /api/v1/certificates" \
    "$(jq -r '[.identity, .status, .method, .path] | join(" ")' <<<"$line")" \
    "it names the identity, the status, the method and the path"
admin=$(openssl x509 -in "$D/admin.crt" -noout -serial | cut -d= -f2 | strip0)
expect_eq "$admin" "$(jq -r .serial <<<"$line" | strip0)" "its serial is the caller's certificate's"
expect_match '^[0-9]+\.[0-9]{3}$' "$(jq -r .duration_ms <<<"$line")" "its duration is in milliseconds"
expect_eq "$serial" "$(jq -r --arg r "$rid" 'select(.event == "issued" and .request_id == $r) | .serial' "$WD_LOG")" \
    "the issuance line of the same request has the new serial"
expect_eq "- - 404" "$(jq -r 'select(.event == "request" and .path == "/no-such-path") | [.identity, .serial, .status] | join(" ")' "$WD_LOG")" \
    "a public request has no identity nor serial"
expect_eq 1 "$(jq -r 'select(.event == "stopped") | 1' "$WD_LOG" | wc -l)" "the stop is logged as JSON too"
expect_eq 0 "$(jq -r 'select(.event == "request" and .path == "/crl") | 1' "$WD_LOG" | wc -l)" \
    "what the public listener answers is not logged at the default level"

# WARDEN_LOG_LEVEL: debug adds those lines, warn drops every info line
WARDEN_LOG_LEVEL=debug wd_start "$D" || exit 1
curl -fsS -o /dev/null "http://$WD_PUB/crl"
wd_stop
expect_eq "debug 200" "$(jq -r 'select(.event == "request" and .path == "/crl") | [.level, .status] | join(" ")' "$WD_LOG")" \
    "WARDEN_LOG_LEVEL=debug logs each answered public request at debug"
WARDEN_LOG_LEVEL=warn wd_start "$D" || exit 1
out=$(wd_api "$D" admin "https://$WD_API/api/v1/ca")
expect_eq 200 "$(status_of "$out")" "the API answers with the level at warn"
wd_stop
expect_eq 0 "$(jq -r 'select(.level == "info" or .level == "debug") | 1' "$WD_LOG" | wc -l)" \
    "WARDEN_LOG_LEVEL=warn writes no info or debug line"

# a terminal gets text; the variable overrides the choice both ways
printf '{' >broken.conf
mkdir -p bad && cp -p "$D"/*.crt "$D"/*.key bad/ && cp broken.conf bad/warden.conf
chmod 700 bad
tty=$(script -qec "$WARDEN_BIN serve --dir bad" /dev/null 2>&1 | tr -d '\r')
expect_match '^ts=[0-9T:.-]+Z level=error event=config_invalid ' "$tty" "on a terminal the log is key=value text"
tty=$(WARDEN_LOG_FORMAT=json script -qec "$WARDEN_BIN serve --dir bad" /dev/null 2>&1 | tr -d '\r' | grep config_invalid)
expect_eq config_invalid "$(jq -r .event <<<"$tty" 2>/dev/null)" "WARDEN_LOG_FORMAT=json makes it JSON on a terminal"
text=$(WARDEN_LOG_FORMAT=text "$WARDEN_BIN" serve --dir bad 2>&1)
expect_match '^ts=[0-9T:.-]+Z level=error event=config_invalid ' "$text" "WARDEN_LOG_FORMAT=text makes it text elsewhere"

wd_finish
