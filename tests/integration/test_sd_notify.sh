#!/usr/bin/env bash
# systemd readiness (Type=notify): with $NOTIFY_SOCKET set, serve sends
# READY=1 only once /healthz answers, with a STATUS line naming both
# listeners, and STOPPING=1 on SIGTERM before it exits 0. A notify socket
# nobody listens on costs a warning, not the daemon.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
API=127.0.0.1:$(wd_free_port)
PUB=127.0.0.1:$(wd_free_port)
SOCK=$WD_TMP/notify.sock
MSGS=$WD_TMP/notify.log

# What systemd does: a unix datagram socket, one message per datagram.
# On READY=1 it asks /healthz at once, so the log shows whether the
# daemon could answer when it said it was ready.
python3 - "$SOCK" "$MSGS" "$PUB" <<'EOF' &
import socket, sys, urllib.request
path, log, pub = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
with open(log, "w", buffering=1) as out:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            out.write("TIMEOUT\n")
            break
        for line in msg.split("\n"):
            out.write(line + "\n")
        if "READY=1" in msg.split("\n"):
            try:
                code = urllib.request.urlopen("http://%s/healthz" % pub,
                                              timeout=5).status
            except Exception as e:
                code = "error %s" % e
            out.write("HEALTHZ_AT_READY=%s\n" % code)
        if "STOPPING=1" in msg.split("\n"):
            break
EOF
LISTENER=$!
WD_PIDS+=("$LISTENER")
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { fail "the notify socket is there"; wd_finish; exit 1; }

NOTIFY_SOCKET=$SOCK wd_start_on "$API" "$PUB" "$D" || exit 1
for _ in $(seq 1 100); do grep -q '^HEALTHZ_AT_READY=' "$MSGS" && break; sleep 0.05; done
log=$(cat "$MSGS")
expect_match '^READY=1$' "$log" "serve sends READY=1"
expect_match '^HEALTHZ_AT_READY=200$' "$log" "/healthz answers 200 when READY=1 arrives"
expect_match "^STATUS=serving api=https://$API public=http://$PUB\$" "$log" \
    "the status line names both listeners"
expect_no_match '^STOPPING=1$' "$log" "no STOPPING=1 while serving"

wd_stop
expect_eq 0 "$WD_STOP_STATUS" "serve exits 0 on SIGTERM"
wait "$LISTENER"
log=$(cat "$MSGS")
expect_match '^STOPPING=1$' "$log" "serve sends STOPPING=1 on SIGTERM"
expect_eq "READY=1 STOPPING=1" "$(grep -Eo '^(READY|STOPPING)=1$' "$MSGS" | paste -sd' ')" \
    "READY=1 once, then STOPPING=1 once"
expect_no_match TIMEOUT "$log" "every message arrived in time"

# A socket nobody listens on: a warning in the log, the daemon serves.
NOTIFY_SOCKET=$WD_TMP/nobody.sock wd_start "$D" || exit 1
pass "serve starts with a notify socket nobody listens on"
expect_match 'event=sd_notify_failed state=ready' "$(cat "$WD_LOG")" \
    "the failed notification is logged"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "and stops cleanly"

wd_finish
