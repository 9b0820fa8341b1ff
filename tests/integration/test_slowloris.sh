#!/usr/bin/env bash
# Resource limits: hundreds of idle connections and byte-a-second
# senders on both listeners must not stop a normal client from being
# served (an API connection has its own thread, public connections are
# polled by a pool of threads; at most 512 per listener, idle ones closed
# after 30 s).
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1

# 250 idle sockets on the API listener (no TLS handshake at all), 150 on
# the public one, and 50 on each sending one byte a second of a request
# that never ends; held for SECONDS seconds.
cat >loris.py <<'PY'
import socket, sys, time
api, pub, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
def addr(s):
    h, p = s.rsplit(":", 1)
    return (h, int(p))
socks, slow = [], []
for target, n in ((api, 250), (pub, 150)):
    for _ in range(n):
        s = socket.create_connection(addr(target))
        socks.append(s)
for target, first in ((api, b"\x16\x03\x01\x02\x00"), (pub, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")):
    for _ in range(50):
        s = socket.create_connection(addr(target))
        s.sendall(first)
        slow.append(s)
print("open", len(socks) + len(slow), flush=True)
end = time.time() + seconds
while time.time() < end:
    for s in slow:
        try:
            s.send(b"X")
        except OSError:
            pass
    time.sleep(1)
PY
python3 loris.py "$WD_API" "$WD_PUB" 12 >loris.out 2>&1 &
loris=$!
WD_PIDS+=("$loris")
for _ in $(seq 1 100); do grep -q '^open' loris.out && break; sleep 0.1; done
expect_match "^open 500" "$(cat loris.out)" "500 hostile connections are open"

t0=$(date +%s%N)
out=$(wd_api "$D" admin --max-time 5 "https://$WD_API/api/v1/ca")
t1=$(date +%s%N)
expect_eq 200 "$(status_of "$out")" "a normal API client is served during the slowloris"
[ $(((t1 - t0) / 1000000)) -lt 2000 ] && pass "and within 2 s" || fail "and within 2 s ($(((t1 - t0) / 1000000)) ms)"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$WD_PUB/healthz")
expect_eq 200 "$code" "a normal public client is served during the slowloris"
wd_csr ecdsa-p256 during -subj /CN=during.example 2>/dev/null
out=$(wd_api "$D" admin --max-time 10 --data-binary @during.csr "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "issuance works during the slowloris"

wait "$loris"
kill -0 "$WD_PID" && pass "the daemon survived the slowloris" || fail "the daemon survived the slowloris"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "and stops cleanly"
wd_finish
