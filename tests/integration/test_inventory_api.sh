#!/usr/bin/env bash
# The API behind the inventory page, driven with curl against a real
# daemon: counts per status and expiries per week (/stats), who the caller
# is (/whoami), listing by expiry with a keyset cursor that pages through
# ties, the expiry range a chart bar filters by, the decoded certificate of
# the detail view, the page itself with its security headers for admins
# and readers only, and a revocation that a cross-site request cannot
# forge.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
jq '. + {readers: [{name: "auditor", cn: "auditor"}]}' "$D/warden.conf" >"$WD_TMP/conf.new" &&
    cp "$WD_TMP/conf.new" "$D/warden.conf"
wd_start "$D" || exit 1
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
BASE="https://$WD_API"
API="$BASE/api/v1"

# issue NAME VALIDITY [PROFILE] -> NAME.key/.crt; prints the serial
issue() {
    wd_csr ecdsa-p256 "$1" -subj "/CN=$1" -addext "subjectAltName=DNS:$1" 2>/dev/null
    jq -n --rawfile csr "$1.csr" --arg v "$2" --arg p "${3:-server-client}" \
        '{csr: $csr, validity: $v, profile: $p}' >"$1.json"
    wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @"$1.json" \
        "$API/certificates" | sed '$d' >"$1.out"
    jq -r .certificate "$1.out" >"$1.crt"
    jq -r .serial "$1.out"
}

S1=$(issue soon.svc.internal 72h)       # expiring soon, week 0
S2=$(issue month.svc.internal 720h)     # 30 days: expiring, week 4
S3=$(issue later.svc.internal 2160h)    # 90 days, week 12
S4=$(issue doomed.svc.internal 2160h)   # revoked below
S5=$(issue auditor 2160h client)        # the reader's identity
cp auditor.key "$D/auditor.key" && cp auditor.crt "$D/auditor.crt"
out=$(wd_api "$D" admin -H 'Content-Type: application/json' -d '{"reason": "superseded"}' \
    "$API/certificates/$S4/revoke")
expect_eq 200 "$(status_of "$out")" "the admin revokes one certificate"

# /stats: the counts add up and follow the revocation
out=$(wd_api "$D" admin "$API/stats")
expect_eq 200 "$(status_of "$out")" "the admin reads the stats"
stats=$(body_of "$out")
total=$(sqlite3 "$D/warden.db" "select count(*) from certificates")
expect_eq "$total" "$(jq .counts.total <<<"$stats")" "stats: total is every stored certificate"
expect_eq 1 "$(jq .counts.revoked <<<"$stats")" "stats: one revoked"
expect_eq 0 "$(jq .counts.expired <<<"$stats")" "stats: none expired"
expect_eq "$((total - 1))" "$(jq .counts.valid <<<"$stats")" "stats: valid is the rest"
# the daemon's own OCSP responder certificate lives 7 days: it counts too
expect_eq 3 "$(jq .counts.expiring <<<"$stats")" "stats: three expire within the 30-day window"
expect_eq 13 "$(jq '.expiring_weeks | length' <<<"$stats")" "stats: thirteen weeks ahead"
expect_eq 2 "$(jq '.expiring_weeks[0].count' <<<"$stats")" "stats: week 0 holds the 72h and the responder's"
expect_eq 2 "$(jq '.expiring_weeks[12].count' <<<"$stats")" "stats: week 12 holds the two 90-day ones, not the revoked"
expect_eq "$(jq '.expiring_weeks[0].end_unix' <<<"$stats")" "$(jq '.expiring_weeks[1].start_unix' <<<"$stats")" \
    "stats: weeks are contiguous"
expect_eq 200 "$(status_of "$(wd_api "$D" auditor "$API/stats")")" "a reader reads the stats"
expect_error "$(wd_api . soon.svc.internal "$API/stats")" 403 forbidden "a service may not read the stats"
expect_error "$(wd_api "$D" admin "$API/stats?x=1")" 400 invalid_query "stats take no query"

# /whoami
expect_eq "admin admin" "$(body_of "$(wd_api "$D" admin "$API/whoami")" | jq -r '"\(.name) \(.role)"')" \
    "whoami: the bootstrap admin"
expect_eq "auditor reader" "$(body_of "$(wd_api "$D" auditor "$API/whoami")" | jq -r '"\(.name) \(.role)"')" \
    "whoami: the configured reader"
expect_eq "service $S1" "$(body_of "$(wd_api . soon.svc.internal "$API/whoami")" | jq -r '"\(.role) \(.serial)"')" \
    "whoami: any other client is a service, with its serial"

# sort=expires walks soonest first; pages of one chain through the cursor
order=$(body_of "$(wd_api "$D" admin "$API/certificates?sort=expires&status=valid&limit=100")" |
    jq -r '[.items[].not_after] | . == sort')
expect_eq true "$order" "sort=expires lists not_after ascending"
seen=""
cursor=""
for _ in $(seq 1 20); do
    out=$(wd_api "$D" admin "$API/certificates?sort=expires&limit=1${cursor:+&cursor=$cursor}")
    seen="$seen $(body_of "$out" | jq -r '.items[].serial')"
    cursor=$(body_of "$out" | jq -r '.next_cursor // empty')
    [ -z "$cursor" ] && break
done
expect_eq "$total" "$(wc -w <<<"$seen")" "pages of one by expiry visit every certificate"
expect_eq "$total" "$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort -u | wc -l)" "... each exactly once"
expect_eq "$S1" "$(awk '{print $1}' <<<"$seen")" "... the 72h certificate first"
out=$(wd_api "$D" admin "$API/certificates?sort=expires&cursor=12")
expect_error "$out" 400 invalid_cursor "an issued-order cursor is refused by expiry"
out=$(wd_api "$D" admin "$API/certificates?sort=name")
expect_error "$out" 400 invalid_query "an unknown sort is refused"

# the chart's filter: one week's range
from=$(jq '.expiring_weeks[12].start_unix' <<<"$stats")
to=$(jq '.expiring_weeks[12].end_unix' <<<"$stats")
got=$(body_of "$(wd_api "$D" admin "$API/certificates?status=valid&expires_after=$from&expires_before=$to&sort=expires")" |
    jq -r '[.items[].serial] | sort | join(" ")')
expect_eq "$(printf '%s\n' "$S3" "$S5" | sort | tr '\n' ' ' | sed 's/ $//')" "$got" \
    "a week's range lists that week's valid certificates"
expect_error "$(wd_api "$D" admin "$API/certificates?expires_after=10&expires_before=10")" 400 invalid_query \
    "an empty expiry range is refused"

# the detail view's decoded certificate agrees with openssl
detail=$(body_of "$(wd_api "$D" admin "$API/certificates/$S1")")
expect_eq "ECDSA 256 P-256" "$(jq -r '.decoded.key | "\(.algorithm) \(.bits) \(.curve)"' <<<"$detail")" \
    "decoded: the key"
fp=$(openssl x509 -in soon.svc.internal.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
expect_eq "$fp" "$(jq -r .decoded.fingerprint_sha256 <<<"$detail")" "decoded: the SHA-256 fingerprint matches openssl"
expect_eq "CA:FALSE true" "$(jq -r '.decoded.extensions[] | select(.name == "basicConstraints") | "\(.value) \(.critical)"' <<<"$detail")" \
    "decoded: basicConstraints CA:FALSE, critical"
expect_eq "DNS:soon.svc.internal" "$(jq -r '.decoded.sans | join(",")' <<<"$detail")" "decoded: the SANs"
expect_match "CN=Warden Intermediate CA" "$(jq -r .decoded.issuer <<<"$detail")" "decoded: the issuer"

# a CN is stored and shown as written, not escaped as in a DN: a CN full of
# markup is text for the page to escape, and what a search must find
wd_csr ecdsa-p256 xss -subj '/CN=<img src=x onerror=alert(1)>, "q"' \
    -addext "subjectAltName=DNS:xss.svc.internal" 2>/dev/null
out=$(wd_api "$D" admin --data-binary @xss.csr "$API/certificates")
expect_eq '<img src=x onerror=alert(1)>, "q"' "$(body_of "$out" | jq -r .serial |
    xargs -I{} curl -sS --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" "$API/certificates/{}" |
    jq -r .cn)" "the CN is the literal text"
expect_eq 1 "$(body_of "$(wd_api "$D" admin --get --data-urlencode 'q=<img src' "$API/certificates")" |
    jq '.items | length')" "a search for the literal markup finds it"

# the page: admins and readers, strict headers, embedded files
curl -sS --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" -D page.h -o page.html "$BASE/"
h=$(tr -d '\r' <page.h)
expect_match "^HTTP/1.1 200" "$h" "the admin gets the page"
expect_match "^Content-Type: text/html; charset=utf-8" "$h" "the page is HTML"
expect_match "^Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';" "$h" \
    "the page has a strict Content-Security-Policy"
expect_no_match "unsafe-inline|unsafe-eval" "$h" "the policy allows no inline code"
expect_match "^X-Frame-Options: DENY" "$h" "the page may not be framed"
expect_match "^Referrer-Policy: no-referrer" "$h" "the page leaks no referrer"
expect_match "^X-Content-Type-Options: nosniff" "$h" "no sniffing"
expect_eq "$(cat "$(dirname "$0")/../../web/index.html" | sha256sum)" "$(sha256sum <page.html)" \
    "the page is web/index.html as built in"
expect_no_match "<script>|<style>| on[a-z]+=" "$(cat page.html)" "the page has no inline script, style or handler"
etag=$(sed -n 's/^ETag: //p' <<<"$h")
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" \
    -H "If-None-Match: $etag" "$BASE/")
expect_eq 304 "$code" "the page revalidates with its ETag"
for f in app.js app.css; do
    expect_eq 200 "$(status_of "$(wd_api "$D" auditor -o /dev/null "$BASE/$f")")" "a reader gets /$f"
done
expect_error "$(wd_api . soon.svc.internal "$BASE/")" 403 forbidden "a service identity does not get the page"
out=$(curl -sS --cacert "$D/ca.crt" -w '\n%{http_code}' "$BASE/")
expect_error "$out" 403 client_certificate_required "no page without a client certificate"
h=$(wd_api "$D" admin -D - -o /dev/null "$API/whoami" | tr -d '\r')
expect_match "^Content-Security-Policy: default-src 'none'; frame-ancestors 'none'" "$h" \
    "API answers carry a policy that runs nothing"

# a write from another origin is refused, audited, and changes nothing
out=$(wd_api "$D" admin -H 'Origin: https://evil.example' -H 'Content-Type: application/json' \
    -d '{"reason": "keyCompromise"}' "$API/certificates/$S3/revoke")
expect_error "$out" 403 cross_origin "a revocation with a foreign Origin is refused"
out=$(wd_api "$D" admin -H 'Sec-Fetch-Site: cross-site' -X POST "$API/certificates/$S3/revoke")
expect_error "$out" 403 cross_origin "a revocation a browser marks cross-site is refused"
out=$(wd_api "$D" admin -H "Origin: $BASE" -H 'Sec-Fetch-Site: same-origin' \
    -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' "$API/certificates/$S3/revoke")
expect_eq 200 "$(status_of "$out")" "the page's own same-origin revocation goes through"
audit=$(body_of "$(wd_api "$D" admin "$API/audit?serial=$S3")")
expect_eq "cross_origin" "$(jq -r '[.items[] | select(.outcome == "cross_origin")][0].outcome' <<<"$audit")" \
    "the refused cross-origin attempt is in the audit log"

wd_stop
wd_finish
