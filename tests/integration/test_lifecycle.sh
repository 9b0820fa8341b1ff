#!/usr/bin/env bash
# The daemon's lifecycle: /healthz's readiness document; SIGHUP takes up a
# new grant (and refuses a broken config, keeping the running one) and a
# renewed TLS certificate without dropping a connection; SIGTERM stops
# accepting, finishes what was accepted (a request half-sent, a
# connection not yet used) and exits 0, and under load of concurrent
# clients nobody sees a reset or a truncated answer: each gets a whole
# response, or a refused connection once the shutdown has begun.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
API="https://$WD_API/api/v1"
PUB="http://$WD_PUB"
PID=$WD_PID

# wait_log REGEX: until the daemon's log has a line matching it (10 s)
wait_log() {
    local i
    for i in $(seq 1 200); do
        grep -Eq -- "$1" "$WD_LOG" && return 0
        sleep 0.05
    done
    return 1
}
conf() { jq "$1" "$D/warden.conf" >conf.new && cat conf.new >"$D/warden.conf"; }
issue_as() { # issue_as DIR WHO CN -> HTTP status, body in CN.out
    wd_csr ecdsa-p256 "$3" -subj "/CN=$3" 2>/dev/null
    out=$(wd_api "$1" "$2" --data-binary @"$3.csr" "$API/certificates")
    body_of "$out" >"$3.out"
    status_of "$out"
}

# --- /healthz -----------------------------------------------------------
out=$(curl -sS -w '\n%{http_code}' "$PUB/healthz")
expect_eq 200 "$(status_of "$out")" "/healthz answers 200 when ready"
expect_eq "ok ok ok true" "$(body_of "$out" | jq -r '[.status, .store, .keys, .crl.fresh] | join(" ")')" \
    "/healthz: status, store, keys and CRL freshness"
expect_eq "number number string" \
    "$(body_of "$out" | jq -r '[.crl.age_seconds, .crl.number, .crl.next_update] | map(type) | join(" ")')" \
    "/healthz: the CRL's age, number and nextUpdate"
expect_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' -I "$PUB/healthz")" "HEAD /healthz answers too"

# --- SIGHUP: a new grant, without a restart -----------------------------
expect_eq 201 "$(issue_as "$D" admin deploy-bot)" "the admin issues the deploy-bot identity"
jq -r .certificate deploy-bot.out >deploy-bot.crt
expect_eq 403 "$(issue_as . deploy-bot web1.svc.internal)" "without a grant, deploy-bot may not issue"
conf '. + {grants: [{name: "deploy-bot", cn: "deploy-bot", names: ["*.svc.internal"]}]}'
kill -HUP "$PID"
wait_log 'event=config_reloaded .*grants=1' && pass "SIGHUP reloads the config" ||
    fail "SIGHUP reloads the config"
expect_eq 201 "$(issue_as . deploy-bot web2.svc.internal)" "after SIGHUP, the new grant lets deploy-bot issue"
expect_eq 403 "$(issue_as . deploy-bot web2.other.internal)" "and only within its names"
kill -0 "$PID" 2>/dev/null && pass "the daemon kept running (same process)" || fail "the daemon kept running"

# a broken config is refused and the running one stays
cp "$D/warden.conf" good.conf
printf '{"grants": [' >"$D/warden.conf"
kill -HUP "$PID"
wait_log 'event=config_reload_refused' && pass "SIGHUP with a broken config is refused" ||
    fail "SIGHUP with a broken config is refused"
expect_match 'event=config_invalid .*line=' "$(cat "$WD_LOG")" "and the log says where it is broken"
expect_eq 201 "$(issue_as . deploy-bot web3.svc.internal)" "the running grant still holds"
expect_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$PUB/healthz")" "the daemon stays healthy"

# a key that only a restart changes is named, the rest is taken
cat good.conf >"$D/warden.conf"
conf '. + {crl_validity: "12h", grants: []}'
kill -HUP "$PID"
wait_log 'event=config_restart_required keys=crl_validity' &&
    pass "a reload names the keys that need a restart" || fail "a reload names the keys that need a restart"
wait_log 'event=config_reloaded .*grants=0' && pass "and takes up the rest" || fail "and takes up the rest"
expect_eq 403 "$(issue_as . deploy-bot web4.svc.internal)" "the removed grant no longer lets deploy-bot issue"

# --- SIGHUP: a renewed TLS certificate, no connection dropped -----------
cat >tlsprobe.py <<'EOF'
# Holds one TLS connection with a client certificate and issues on it
# before and after the daemon reloads its certificate (signalled through
# files): prints each status, whether the second went over the same
# connection, and the serial of the certificate that connection was shown.
# (A request with a body keeps the connection open; MHD closes one whose
# answer it queued before the body stage.)
import http.client, os, ssl, sys, time
host, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
csr = open("probe.csr", "rb").read()
ctx = ssl.create_default_context(cafile=d + "/ca.crt")
ctx.load_cert_chain(d + "/admin.crt", d + "/admin.key")
c = http.client.HTTPSConnection(host, port, context=ctx, timeout=20)
c.request("POST", "/api/v1/certificates", body=csr)
r = c.getresponse(); r.read()
first = c.sock
print("first", r.status)
open("probe.ready", "w").close()
while not os.path.exists("probe.go"):
    time.sleep(0.02)
c.request("POST", "/api/v1/certificates", body=csr)
r = c.getresponse()
print("second", r.status, "same connection" if c.sock is first else "reconnected")
print("serial " + c.sock.getpeercert()["serialNumber"].lower().lstrip("0"))
r.read()
EOF
wd_csr ecdsa-p256 probe -subj /CN=probe.svc.internal 2>/dev/null
presented() { # the serial of the certificate a new connection is shown
    openssl s_client -connect "$WD_API" -CAfile "$D/ca.crt" -cert "$D/admin.crt" -key "$D/admin.key" \
        </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'
}
old=$(presented)
rm -f probe.ready probe.go
python3 tlsprobe.py 127.0.0.1 "${WD_API##*:}" "$D" >probe.out 2>&1 &
probe=$!
for _ in $(seq 1 200); do [ -e probe.ready ] && break; sleep 0.05; done
# a new server certificate from the intermediate, for the same names
openssl ecparam -name prime256v1 -genkey -noout -out new.key 2>/dev/null
openssl req -new -key new.key -subj /CN=localhost -out new.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >new.ext
openssl x509 -req -in new.csr -CA "$D/intermediate.crt" -CAkey "$D/intermediate.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile new.ext -out new.crt 2>/dev/null
cp "$D/server.crt" old-server.crt
cp -p "$D/server.key" old-server.key
cat new.crt "$D/intermediate.crt" >"$D/server.crt"
cat new.key >"$D/server.key"
kill -HUP "$PID"
wait_log 'event=tls_reloaded' && pass "SIGHUP reloads the TLS certificate" || fail "SIGHUP reloads the TLS certificate"
touch probe.go
wait "$probe"
new=$(openssl x509 -in new.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
expect_eq "$new" "$(presented)" "a new connection is shown the new certificate"
expect_eq "first 201
second 201 same connection
serial $old" "$(cat probe.out)" "a connection opened before the reload kept working, on the old certificate"
# a key that does not match is refused; the new certificate stays
cat old-server.key >"$D/server.key"
kill -HUP "$PID"
wait_log 'event=tls_reload_refused' && pass "a certificate whose key does not match is refused" ||
    fail "a certificate whose key does not match is refused"
expect_eq "$new" "$(presented)" "and the running certificate stays"
expect_eq 200 "$(status_of "$(wd_api "$D" admin "$API/ca")")" "the API still answers"
cat new.key >"$D/server.key"

# --- SIGTERM: a request in flight and a connection not yet used ---------
cat >slow.py <<'EOF'
# MODE half: send half an OCSP request, wait for probe.go, send the rest.
# MODE idle: connect and send nothing until probe.go, then GET /healthz.
# Either way read the whole answer and print its status, whether its body
# is as long as Content-Length says and whether the server closes after.
import os, socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
if mode == "half":
    body = open("ocsp.req", "rb").read()
    head = (b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    s.sendall(head + body[:10])
    rest = body[10:]
else:
    rest = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
open(mode + ".ready", "w").close()
while not os.path.exists("probe.go"):
    time.sleep(0.02)
s.sendall(rest)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
hdr = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
print(lines[0].split()[1], len(body) == int(hdr.get("content-length", -1)),
      hdr.get("connection", "").lower())
EOF
openssl ocsp -issuer "$D/intermediate.crt" -cert deploy-bot.crt -no_nonce -reqout ocsp.req 2>/dev/null
rm -f probe.go half.ready idle.ready
python3 slow.py half 127.0.0.1 "${WD_PUB##*:}" >half.out 2>&1 &
half=$!
python3 slow.py idle 127.0.0.1 "${WD_PUB##*:}" >idle.out 2>&1 &
idle=$!
for _ in $(seq 1 200); do [ -e half.ready ] && [ -e idle.ready ] && break; sleep 0.05; done
kill -TERM "$PID"
wait_log 'event=stopping' || fail "the daemon logs that it is stopping"
sleep 0.3
kill -0 "$PID" 2>/dev/null && pass "the daemon waits for what it accepted" || fail "the daemon waits for what it accepted"
curl -sS -o /dev/null --max-time 5 "$PUB/healthz" 2>/dev/null
expect_eq 7 "$?" "a new connection is refused once the shutdown began (curl exit 7)"
touch probe.go
wait "$half"
wait "$idle"
expect_eq "200 True close" "$(cat half.out)" "the request half-sent at SIGTERM gets its whole answer"
expect_eq "200 True close" "$(cat idle.out)" "the connection made before SIGTERM is served"
wait "$PID"
expect_eq 0 "$?" "serve exits 0 after SIGTERM"
expect_match 'event=drained' "$(cat "$WD_LOG")" "it drained before stopping"
expect_match 'event=stopped' "$(cat "$WD_LOG")" "and stopped cleanly"

# --- SIGTERM under load -------------------------------------------------
wd_start "$D" || exit 1
PID=$WD_PID
API="https://$WD_API/api/v1"
PUB="http://$WD_PUB"
wd_csr ecdsa-p256 load -subj /CN=load.svc.internal 2>/dev/null
# client N URL [curl args]: one request per curl until the listener
# refuses; a line per request: end time (ns), curl exit, HTTP status, and
# whether the body is whole (a JSON document, or as long as announced)
client() {
    local n=$1 url=$2 rc code
    shift 2
    while :; do
        code=$(curl -sS -o "body$n" -w '%{http_code} %{size_download} %header{content-length}' \
            --max-time 30 "$@" "$url" 2>"err$n")
        rc=$?
        read -r status got want <<<"$code"
        whole=no
        if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then whole=yes; fi
        if [ "$rc" = 0 ] && grep -q json <<<"$url$*" && ! jq -e . "body$n" >/dev/null 2>&1; then whole=no; fi
        echo "$(date +%s%N) $rc $status $whole" >>"load$n.log"
        [ "$rc" = 7 ] && break
    done
}
for n in 1 2 3; do
    client "$n" "$API/certificates" --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" \
        -H 'Accept: application/json' --data-binary @load.csr &
done
for n in 4 5; do client "$n" "$PUB/crl" & done
client 6 "$PUB/healthz" -H 'Accept: application/json' &
sleep 2
t_term=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"
expect_eq 0 "$?" "serve exits 0 on SIGTERM under load"
wait
cat load*.log >load.all
total=$(wc -l <load.all)
ok=$(awk '$2 == 0 && ($3 == 200 || $3 == 201) && $4 == "yes"' load.all | wc -l)
refused=$(awk -v t="$t_term" '$2 == 7 && $1 >= t' load.all | wc -l)
late=$(awk -v t="$t_term" '$2 == 0 && $1 >= t' load.all | wc -l)
[ "$ok" -ge 6 ] && pass "clients were served under load ($ok whole answers, $late of them after SIGTERM)" ||
    fail "clients were served under load: $ok of $total"
expect_eq "$total" "$((ok + refused))" \
    "every request got a whole answer or, after SIGTERM, a refused connection ($refused refused)"
expect_eq "" "$(awk -v t="$t_term" '!(($2 == 0 && $4 == "yes") || ($2 == 7 && $1 >= t))' load.all | head -5)" \
    "no reset, truncation or error: the requests that were neither"
expect_no_match 'event=drain_timeout' "$(cat "$WD_LOG")" "the drain finished within its bound"

wd_finish
