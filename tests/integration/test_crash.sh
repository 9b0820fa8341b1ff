#!/usr/bin/env bash
# Crash safety: four clients issue and revoke in parallel while the daemon
# is killed with SIGKILL at random moments and restarted on the same ports.
# Afterwards every certificate a client got a 201 for is in the store and
# served by GET, every revocation answered 200 is in the CRL and OCSP, no
# serial was handed out twice, the database passes integrity_check and the
# CRL number never went back.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
CLIENTS=4
KILLS=4
STOP=$WD_TMP/stop
BG=() # the clients and the CRL watcher

# on any exit the clients and the watcher see $STOP, finish the request in
# flight (bounded by curl --max-time) and are reaped by their PIDs; then
# lib.sh kills the daemon by its PID and removes the scratch dir
crash_cleanup() {
    local pid
    touch "$STOP"
    for pid in "${BG[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done
    BG=()
    wd_cleanup
}
trap crash_cleanup EXIT
# a killed daemon is reaped: lib.sh must never signal that PID again
forget_pid() {
    local pid keep=()
    for pid in "${WD_PIDS[@]}"; do [ "$pid" == "$1" ] || keep+=("$pid"); done
    WD_PIDS=("${keep[@]}")
}

# a few small CSRs made up front; the same one may be issued many times
for i in 0 1 2 3 4 5; do
    wd_csr ecdsa-p256 "csr$i" -subj "/CN=crash$i.svc.internal" 2>/dev/null
done

wd_start "$D" || exit 1
API="https://$WD_API/api/v1"
PUB="http://$WD_PUB"
crl_number() { curl -sS --max-time 5 "$PUB/crl" | openssl crl -inform DER -noout -crlnumber | cut -d= -f2; }
ocsp() { # ocsp CERT -> openssl ocsp output
    openssl ocsp -no_nonce -issuer "$D/intermediate.crt" -cert "$1" -url "$PUB/ocsp" \
        -CAfile "$D/ca.crt" -verify_other "$D/intermediate.crt" 2>&1
}
NUMBERS=("$(crl_number)") # the CRL number after each (re)start

# client N: one request per curl (no keep-alive); appends to clientN.log
# one JSON line per answer: issued (serial, certificate) for each 201,
# revoked (serial) for each 200, status for anything else; a transport
# error (the daemon is gone) is counted and retried after a short pause
client() {
    local n=$1 log=$WD_TMP/client$1.log i=0 out rc code next=0
    local issued=()
    while [ ! -e "$STOP" ]; do
        i=$((i + 1))
        out=$(wd_api "$D" admin --max-time 5 --data-binary "@csr$(((n + i) % 6)).csr" \
            "$API/certificates" 2>/dev/null)
        rc=$? # an answer cut short is no answer: transport error
        [ $rc -eq 0 ] && code=$(status_of "$out") || code=000
        case $code in
        201)
            body_of "$out" | jq -c '{event: "issued", serial, certificate}' >>"$log"
            issued+=("$(body_of "$out" | jq -r .serial)")
            ;;
        000)
            echo "{\"event\": \"transport\", \"op\": \"issue\", \"curl\": $rc}" >>"$log"
            sleep 0.1
            continue
            ;;
        *) echo "{\"event\": \"status\", \"op\": \"issue\", \"code\": $code}" >>"$log" ;;
        esac
        # revoke every other time, oldest first; after a transport error
        # the outcome is unknown and that serial is not tried again
        [ $((i % 2)) -eq 0 ] && [ "$next" -lt "${#issued[@]}" ] || continue
        out=$(wd_api "$D" admin --max-time 5 -H 'Content-Type: application/json' \
            -d '{"reason": "keyCompromise"}' "$API/certificates/${issued[$next]}/revoke" 2>/dev/null)
        rc=$?
        [ $rc -eq 0 ] && code=$(status_of "$out") || code=000
        case $code in
        200) echo "{\"event\": \"revoked\", \"serial\": \"${issued[$next]}\"}" >>"$log" ;;
        000)
            echo "{\"event\": \"transport\", \"op\": \"revoke\", \"curl\": $rc}" >>"$log"
            sleep 0.1
            ;;
        *) echo "{\"event\": \"status\", \"op\": \"revoke\", \"code\": $code}" >>"$log" ;;
        esac
        next=$((next + 1))
    done
}

# the CRL number as published, polled throughout: it may only grow
watch_crl() {
    local n
    while [ ! -e "$STOP" ]; do
        n=$(crl_number 2>/dev/null)
        [[ $n =~ ^0x[0-9A-Fa-f]+$ ]] && echo "$((n))" >>"$WD_TMP/crl-seen.log"
        sleep 0.2
    done
}

for c in $(seq 1 $CLIENTS); do
    client "$c" &
    BG+=($!)
done
watch_crl &
BG+=($!)

sleep 1.5
for k in $(seq 1 $KILLS); do
    kill -KILL "$WD_PID"
    wait "$WD_PID" 2>/dev/null
    forget_pid "$WD_PID"
    expect_eq ok "$(sqlite3 "$D/warden.db" 'pragma integrity_check')" \
        "kill $k: the database left by SIGKILL passes integrity_check"
    wd_start_on "$WD_API" "$WD_PUB" "$D" || {
        fail "kill $k: the daemon restarts on the same ports"
        exit 1
    }
    NUMBERS+=("$(crl_number)")
    ms=$((500 + RANDOM % 1500))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
done
touch "$STOP"
for pid in "${BG[@]}"; do wait "$pid"; done
BG=()
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "after the load the daemon stops cleanly"
wd_start_on "$WD_API" "$WD_PUB" "$D" || exit 1
NUMBERS+=("$(crl_number)")

cat client*.log >all.log
jq -r 'select(.event == "issued") | .serial' all.log | sort >issued.txt
jq -r 'select(.event == "revoked") | .serial' all.log | sort >revoked.txt
n_issued=$(wc -l <issued.txt)
n_revoked=$(wc -l <revoked.txt)
echo "# $n_issued issued, $n_revoked revoked; transport errors by curl exit:" \
    "$(jq -r 'select(.event == "transport") | .curl' all.log | sort -n | uniq -c | tr -s ' \n' ' ')"
echo "# CRL numbers after each start: ${NUMBERS[*]}"
[ "$n_issued" -ge 10 ] && pass "the clients got 201s under fire ($n_issued)" ||
    fail "the clients got 201s under fire (only $n_issued)"
[ "$n_revoked" -ge 3 ] && pass "the clients got 200 revocations under fire ($n_revoked)" ||
    fail "the clients got 200 revocations under fire (only $n_revoked)"
expect_eq "" "$(jq -r 'select(.event == "status") | "\(.op) \(.code)"' all.log | sort | uniq -c)" \
    "every answer was a 201 or a 200 (no 4xx, no 5xx)"

# a daemon that is up answers: refused or reset while it is down, never
# a request left hanging (curl exit 28) by a live one
expect_eq "" "$(jq -r 'select(.event == "transport" and .curl == 28) | .op' all.log | sort | uniq -c)" \
    "no request timed out"

# no serial twice: not among the answers, not in the store
expect_eq "" "$(uniq -d issued.txt | head -5)" "no serial was handed out twice"
expect_eq 0 "$(sqlite3 "$D/warden.db" 'select count(*) - count(distinct serial) from certificates')" \
    "no serial appears twice in the store"
expect_eq ok "$(sqlite3 "$D/warden.db" 'pragma integrity_check')" "the database passes integrity_check"

# every 201 is in the store, with the very certificate the client got
sqlite3 -separator ' ' "$D/warden.db" 'select serial, lower(hex(der)) from certificates' | sort >store.txt
expect_eq "" "$(cut -d' ' -f1 store.txt | comm -13 - issued.txt | head -5)" \
    "every certificate answered 201 is in the store"
jq -r 'select(.event == "issued") | .serial + " " + (.certificate | gsub("-----[A-Z ]+-----|\n"; ""))' \
    all.log | while read -r serial b64; do
    printf '%s %s\n' "$serial" "$(base64 -d <<<"$b64" | od -An -v -tx1 | tr -d ' \n')"
done | sort >got.txt
expect_eq "" "$(comm -23 got.txt store.txt | cut -c1-40 | head -5)" \
    "the store holds the same DER as each 201 answered"

# every 201 is served by GET with the same certificate (one curl, many URLs)
mkdir -p get
while read -r serial; do
    printf 'url = "%s/certificates/%s"\noutput = "get/%s.json"\n' "$API" "$serial" "$serial"
done <issued.txt >get.cfg
codes=$(curl -sS --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" --config get.cfg \
    -w '%{http_code}\n' | sort | uniq -c | awk '{print $2 "x" $1}')
expect_eq "200x$n_issued" "$codes" "GET answers 200 for every certificate answered 201"
jq -r 'select(.event == "issued") | [.serial, .certificate] | @json' all.log | sort >want-get.txt
cat get/*.json | jq -r '[.serial, .certificate] | @json' | sort >served.txt
expect_eq "" "$(comm -23 want-get.txt served.txt | cut -c1-40 | head -5)" \
    "GET serves the same certificate as each 201 answered"

# every 200 revocation: revoked in the store, listed in the CRL, and OCSP
# says revoked (for a sample, to keep it fast)
expect_eq "" "$(comm -23 revoked.txt <(sqlite3 "$D/warden.db" \
    'select serial from certificates where revoked_at is not null' | sort) | head -5)" \
    "every revocation answered 200 is revoked in the store"
curl -sS "$PUB/crl" | openssl crl -inform DER -noout -text -CAfile "$D/intermediate.crt" >crl.txt 2>&1
expect_match "verify OK" "$(cat crl.txt)" "the CRL after the crashes verifies"
sed -n 's/^ *Serial Number: *//p' crl.txt | tr 'A-F' 'a-f' | sed 's/^0*//' | sort >crl-serials.txt
expect_eq "" "$(sed 's/^0*//' revoked.txt | sort | comm -23 - crl-serials.txt | head -5)" \
    "every revocation answered 200 is listed in the CRL"
bad=0
for serial in $(shuf -n 20 revoked.txt); do
    jq -r --arg s "$serial" 'select(.event == "issued" and .serial == $s) | .certificate' all.log \
        >"ocsp-$serial.crt"
    out=$(ocsp "ocsp-$serial.crt")
    grep -q "ocsp-$serial.crt: revoked" <<<"$out" && grep -q "Response verify OK" <<<"$out" || {
        bad=$((bad + 1))
        echo "# OCSP $serial: $(tr '\n' ' ' <<<"$out" | cut -c1-200)"
    }
done
expect_eq 0 "$bad" "OCSP says revoked, verifiably, for every sampled revocation"

# the CRL number never went back: neither from one start to the next nor
# in what was published while the daemon was being killed
prev=0
back=""
for n in "${NUMBERS[@]}"; do
    [[ $n =~ ^0x[0-9A-Fa-f]+$ ]] || n=none
    [ "$n" != none ] && [ $((n)) -ge "$prev" ] || back+=" $prev->$n"
    [ "$n" != none ] && prev=$((n))
done
expect_eq "" "$back" "the CRL number after each start never goes back"
prev=0
back=""
while read -r n; do
    [ "$n" -ge "$prev" ] || back+=" $prev->$n"
    prev=$n
done <crl-seen.log
expect_eq "" "$back" "the published CRL number never goes back ($(wc -l <crl-seen.log) polls)"
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly at the end"
expect_eq "" "$(grep -l 'Sanitizer' serve-*.log)" "no daemon log holds a sanitizer report"
wd_finish
