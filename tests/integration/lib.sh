# Shared helpers for the integration tests: a scratch dir, free loopback
# ports, starting and stopping the real warden, curl wrappers and
# assertions that count. Source it, call wd_setup, end with wd_finish.
# shellcheck shell=bash
set -uo pipefail
# The daemon logs JSON lines when stderr is not a terminal; these tests
# grep its key=value text form (test_logs.sh checks the JSON default).
export WARDEN_LOG_FORMAT=${WARDEN_LOG_FORMAT:-text}

WARDEN_BIN=${WARDEN_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/warden}
WD_PASSED=0
WD_FAILED=0
WD_PIDS=()

wd_setup() {
    WD_TMP=$(mktemp -d "${TMPDIR:-/tmp}/warden-test.XXXXXX")
    trap wd_cleanup EXIT
}

wd_cleanup() {
    local pid
    for pid in "${WD_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "$WD_FAILED" -eq 0 ] && [ "${WD_KEEP:-0}" != 1 ]; then
        rm -rf "$WD_TMP"
    else
        echo "# scratch dir kept: $WD_TMP"
    fi
}

# A TCP port nobody listens on right now (the kernel picks it).
wd_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pass() { WD_PASSED=$((WD_PASSED + 1)); echo "ok - $*"; }
fail() { WD_FAILED=$((WD_FAILED + 1)); echo "not ok - $*"; }

# expect_eq WANT GOT WHAT
expect_eq() {
    if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: want [$1], got [$2]"; fi
}

# expect_match REGEX TEXT WHAT
expect_match() {
    if grep -Eq -- "$1" <<<"$2"; then pass "$3"; else fail "$3: [$1] not in [${2:0:400}]"; fi
}

expect_no_match() {
    if grep -Eq -- "$1" <<<"$2"; then fail "$3: [$1] found"; else pass "$3"; fi
}

# Start warden serve on fresh ports for data dir $1; extra args follow.
# Sets WD_API (host:port), WD_PUB, WD_PID, WD_LOG.
wd_start() {
    local dir=$1
    shift
    wd_start_on "127.0.0.1:$(wd_free_port)" "127.0.0.1:$(wd_free_port)" "$dir" "$@"
}

# wd_start on given listeners, e.g. a killed daemon's, so that clients
# and issued URLs stay valid: wd_start_on API PUB DIR [args...]
wd_start_on() {
    WD_API=$1
    WD_PUB=$2
    local dir=$3
    shift 3
    WD_LOG=$WD_TMP/serve-$(date +%s%N).log
    "$WARDEN_BIN" serve --dir "$dir" --listen "$WD_API" \
        --public-listen "$WD_PUB" "$@" >"$WD_LOG" 2>&1 &
    WD_PID=$!
    WD_PIDS+=("$WD_PID")
    local i
    for i in $(seq 1 200); do
        if curl -fsS "http://$WD_PUB/healthz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$WD_PID" 2>/dev/null; then
            echo "# warden exited early:"; sed 's/^/#   /' "$WD_LOG"
            return 1
        fi
        sleep 0.05
    done
    echo "# warden did not become healthy:"; sed 's/^/#   /' "$WD_LOG"
    return 1
}

# Stop the daemon started last with SIGTERM; its exit status goes to
# WD_STOP_STATUS (not echoed: a $(...) subshell cannot wait for it).
wd_stop() {
    kill -TERM "$WD_PID" 2>/dev/null
    wait "$WD_PID"
    WD_STOP_STATUS=$?
}

# curl against the API listener as the identity in $dir/{$who.crt,$who.key},
# trusting $WD_CACERT (default $dir/ca.crt).
# Usage: wd_api DIR WHO curl-args...   (prints body, then status on last line)
wd_api() {
    local dir=$1 who=$2
    shift 2
    curl -sS --cacert "${WD_CACERT:-$dir/ca.crt}" --cert "$dir/$who.crt" --key "$dir/$who.key" \
        -w '\n%{http_code}' "$@"
}

# Split wd_api's output: body and status.
body_of() { sed '$d' <<<"$1"; }
status_of() { tail -n 1 <<<"$1"; }
json_code() { body_of "$1" | jq -r '.error.code // empty' 2>/dev/null; }

# expect_error OUTPUT STATUS CODE WHAT: status and JSON error.code.
expect_error() {
    local out=$1
    expect_eq "$2 $3" "$(status_of "$out") $(json_code "$out")" "$4"
}

# Make a key and CSR: wd_csr TYPE NAME [openssl req args...] -> NAME.key/.csr
wd_csr() {
    local type=$1 name=$2
    shift 2
    case $type in
    ecdsa-p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null ;;
    ecdsa-p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$name.key" 2>/dev/null ;;
    rsa-*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${type#rsa-}" -out "$name.key" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$name.key" 2>/dev/null ;;
    esac
    openssl req -new -key "$name.key" -out "$name.csr" "$@"
}

wd_finish() {
    echo "$WD_PASSED passed, $WD_FAILED failed"
    [ "$WD_FAILED" -eq 0 ]
}
