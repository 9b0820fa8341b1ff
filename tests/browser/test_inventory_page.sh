#!/usr/bin/env bash
# The inventory page, end to end: a real warden with a CA in a scratch dir,
# a reader identity in warden.conf, certificates of every status (one with
# a CN made of markup, one expiring within 72h, one already expired, one
# revoked, and enough others for two pages), then:
#   - with curl: the page's security headers, who may load it, and that a
#     write a browser marks as cross-origin is refused (403 cross_origin);
#   - in Debian's chromium (inventory.test.mjs, playwright-core): the page
#     as an admin and as a reader.
# Screenshots go to WARDEN_SCREENSHOT_DIR, default the directory holding
# the warden binary (the build dir).
#
# Usage: test_inventory_page.sh [path/to/warden]   (or WARDEN_BIN)
# Needs node and npm, /usr/bin/chromium (tests/packages.txt); installs
# tests/browser/node_modules with `npm ci` when it is missing.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${1:-}" ]; then
    WARDEN_BIN=$(realpath "$1")
    export WARDEN_BIN
fi
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
SRC=${WARDEN_SRC:-$(cd "$here/../.." && pwd)}
CHROMIUM=${WARDEN_CHROMIUM:-/usr/bin/chromium}
SHOTS=${WARDEN_SCREENSHOT_DIR:-$(dirname "$WARDEN_BIN")}

for tool in node npm curl openssl jq; do
    command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done
[ -x "$CHROMIUM" ] || { echo "not ok - no browser at $CHROMIUM (apt-get install chromium)"; exit 1; }
[ -x "$WARDEN_BIN" ] || { echo "not ok - no warden binary at $WARDEN_BIN"; exit 1; }

wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >"$WD_TMP/init.log" 2>&1 || { cat "$WD_TMP/init.log"; exit 1; }
# a reader, matched by its CN; the config is read at start
jq '. + {readers: [{name: "auditor", cn: "auditor"}]}' "$D/warden.conf" >"$WD_TMP/conf.new" &&
    cp "$WD_TMP/conf.new" "$D/warden.conf" || exit 1
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
ORIGIN="https://$WD_API"
API="$ORIGIN/api/v1"
# what init put in the inventory (its own certificates), before ours
baseline=$(body_of "$(wd_api "$D" admin "$API/stats")" | jq -c .counts)
expect_match '"total":[0-9]+' "$baseline" "the stats before issuing: $baseline"

# issue NAME CN [SAN] [PROFILE] [VALIDITY]: NAME.key/.csr/.crt/.out; exits
# on anything but 201 (every later check needs these certificates)
issue() {
    local name=$1 cn=$2 san=${3:-} profile=${4:-server-client} validity=${5:-} out
    local ext=()
    [ -n "$san" ] && ext=(-addext "subjectAltName=$san")
    if [ -f bulk.key ] && [ "${name#bulk}" != "$name" ]; then
        openssl req -new -key bulk.key -out "$name.csr" -subj "/CN=$cn" "${ext[@]}" 2>/dev/null
    else
        wd_csr ecdsa-p256 "$name" -subj "/CN=$cn" "${ext[@]}" 2>/dev/null
    fi
    jq -n --rawfile csr "$name.csr" --arg p "$profile" --arg v "$validity" \
        '{csr: $csr, profile: $p} + (if $v == "" then {} else {validity: $v} end)' >"$name.json"
    out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @"$name.json" \
        "$API/certificates")
    body_of "$out" >"$name.out"
    if [ "$(status_of "$out")" != 201 ]; then
        fail "issue $name ($cn): $(status_of "$out") $(head -c 300 "$name.out")"
        exit 1
    fi
    jq -r .certificate "$name.out" >"$name.crt"
}

# enough certificates for two pages of 100, oldest first, so that the
# ones the browser looks at are the newest
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out bulk.key 2>/dev/null
for i in $(seq -w 1 105); do
    issue "bulk$i" "bulk-$i.svc.internal" "DNS:bulk-$i.svc.internal"
done
issue auditor auditor "" client
issue old old-batch.svc.internal "DNS:old-batch.svc.internal"
issue expired legacy.svc.internal "DNS:legacy.svc.internal" server 1s
issue expiring db-primary.svc.internal "DNS:db-primary.svc.internal" server-client 72h
issue xss '<img src=x onerror=alert(1)>' "DNS:xss.svc.internal"
issue victim cache.svc.internal "DNS:cache.svc.internal,IP:10.0.0.9"
issue web web-01.svc.internal "DNS:web-01.svc.internal,IP:10.0.0.7"
issued=$((105 + 7))
pass "issued $issued certificates"
serial() { jq -r .serial "$1.out"; }

# --- the page's headers, and who may load it ---
for p in / /app.js /app.css; do
    out=$(wd_api "$D" admin -D "hdr.txt" -o body.bin "$ORIGIN$p")
    h=$(tr -d '\r' <hdr.txt)
    expect_eq 200 "$(status_of "$out")" "GET $p as admin"
    f=$SRC/web/$([ "$p" = / ] && echo index.html || echo "${p#/}")
    cmp -s body.bin "$f" && pass "GET $p serves web/${f##*/} as built in" ||
        fail "GET $p serves web/${f##*/} as built in"
    expect_match "^X-Content-Type-Options: nosniff$" "$h" "$p: X-Content-Type-Options: nosniff"
    expect_match "^X-Frame-Options: DENY$" "$h" "$p: X-Frame-Options: DENY"
    expect_match "^Referrer-Policy: " "$h" "$p: Referrer-Policy"
    csp=$(sed -n 's/^Content-Security-Policy: //Ip' <<<"$h")
    expect_match "default-src 'self'" "$csp" "$p: CSP default-src 'self'"
    expect_match "script-src 'self'(;|$)" "$csp" "$p: CSP script-src 'self' only"
    expect_match "style-src 'self'(;|$)" "$csp" "$p: CSP style-src 'self' only"
    expect_match "frame-ancestors 'none'" "$csp" "$p: CSP frame-ancestors 'none'"
    expect_no_match "unsafe-inline|unsafe-eval|\\*" "$csp" "$p: CSP allows nothing unsafe"
    case $p in
    /) expect_match "^Content-Type: text/html" "$h" "/ is text/html" ;;
    /app.js) expect_match "^Content-Type: (text|application)/javascript" "$h" "/app.js is JavaScript" ;;
    /app.css) expect_match "^Content-Type: text/css" "$h" "/app.css is text/css" ;;
    esac
done
out=$(wd_api "$D" admin -D hdr.txt "$API/stats")
expect_match "^X-Content-Type-Options: nosniff$" "$(tr -d '\r' <hdr.txt)" "API answers carry nosniff too"
expect_eq 200 "$(status_of "$(wd_api . auditor -o /dev/null "$ORIGIN/")")" "a reader may load the page"
expect_error "$(wd_api . web "$ORIGIN/")" 403 forbidden "a service may not load the page"
expect_eq "admin reader service" \
    "$(for who in "$D admin" ". auditor" ". web"; do
        # shellcheck disable=SC2086
        body_of "$(wd_api $who "$API/whoami")" | jq -r .role
    done | xargs)" "whoami names each caller's role"

# --- a browser-marked cross-origin write is refused, a same-origin one is not ---
old=$(serial old)
revoke_as() { # revoke_as HEADER... : admin POSTs a revocation of $old
    wd_api "$D" admin -H 'Content-Type: application/json' "$@" \
        -d '{"reason": "superseded"}' "$API/certificates/$old/revoke"
}
expect_error "$(revoke_as -H 'Origin: https://evil.example')" 403 cross_origin \
    "a revoke with a foreign Origin is refused"
expect_error "$(revoke_as -H 'Sec-Fetch-Site: cross-site')" 403 cross_origin \
    "a revoke with Sec-Fetch-Site: cross-site is refused"
expect_error "$(revoke_as -H 'Sec-Fetch-Site: same-site')" 403 cross_origin \
    "a revoke with Sec-Fetch-Site: same-site is refused"
expect_error "$(revoke_as -H "Origin: http://$WD_API")" 403 cross_origin \
    "a revoke from the plain-http origin of the same host is refused"
expect_eq valid "$(body_of "$(wd_api "$D" admin "$API/certificates/$old")" | jq -r .status)" \
    "and the certificate is still valid"
out=$(revoke_as -H "Origin: $ORIGIN" -H 'Sec-Fetch-Site: same-origin')
expect_eq 200 "$(status_of "$out")" "a revoke from the page's own origin is accepted"

# --- the browser ---
sleep 1 # the 1s certificate is expired by now (not_after = issue + 1s)
jq -n --arg dir "$WD_TMP" --argjson baseline "$baseline" --argjson issued "$issued" \
    --arg web "$(serial web)" --arg xss "$(serial xss)" --arg victim "$(serial victim)" \
    --arg expiring "$(serial expiring)" --arg expiring_na "$(jq -r .not_after expiring.out)" \
    --arg expired "$(serial expired)" --arg revoked "$old" --arg auditor "$(serial auditor)" \
    '{baseline: $baseline, issued: $issued, certs: {
        web: {serial: $web, crt: ($dir + "/web.crt")},
        xss: {serial: $xss},
        victim: {serial: $victim},
        expiring: {serial: $expiring, not_after: $expiring_na},
        expired: {serial: $expired},
        revoked: {serial: $revoked},
        auditor: {serial: $auditor}}}' >fixture.json

if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "# npm ci --prefix $here"
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error ||
        { fail "npm ci in tests/browser"; wd_finish; exit 1; }
fi
NODE_EXTRA_CA_CERTS=$D/ca.crt \
    WARDEN_URL=$ORIGIN \
    WARDEN_ADMIN_CERT=$D/admin.crt WARDEN_ADMIN_KEY=$D/admin.key \
    WARDEN_READER_CERT=$WD_TMP/auditor.crt WARDEN_READER_KEY=$WD_TMP/auditor.key \
    WARDEN_FIXTURE=$WD_TMP/fixture.json WARDEN_SCREENSHOT_DIR=$SHOTS \
    WARDEN_CHROMIUM=$CHROMIUM \
    node "$here/inventory.test.mjs"
rc=$?
[ "$rc" -eq 0 ] && pass "the page in chromium (inventory.test.mjs)" ||
    fail "the page in chromium (inventory.test.mjs exit $rc; see the lines above)"

wd_stop
expect_eq 0 "$WD_STOP_STATUS" "warden stops cleanly"
wd_finish
