#!/bin/sh
# warden-renew: renew a service's Warden certificate before it expires,
# then reload the service. Run daily (warden-renew@.timer); it does nothing
# until the certificate is within WARDEN_RENEW_DAYS of its end.
#
# The certificate authenticates its own renewal (POST /api/v1/renew with
# the current certificate and key as the TLS client identity), so it must
# allow client authentication: profile "client" or "server-client" (the
# default). The key is kept; the new certificate has the same names and
# profile. It replaces the old file atomically, in the same form (the leaf
# alone, or the leaf and the intermediate if the file held a chain), with
# the old file's mode and owner, once it is proven to chain to
# WARDEN_RENEW_CACERT, to match the key and to outlive the old one.
#
# Settings (environment; warden-renew@.service reads them from
# /etc/warden-renew/<service>.env):
#   WARDEN_RENEW_URL       the API listener, e.g. https://ca.internal:8443
#   WARDEN_RENEW_CERT      the service's certificate (PEM), replaced
#   WARDEN_RENEW_KEY       its private key (PEM), read only
#   WARDEN_RENEW_CACERT    the CA's root (ca.crt)
#   WARDEN_RENEW_DAYS      renew when it ends within this many days (30)
#   WARDEN_RENEW_VALIDITY  optional: the validity to ask for ("720h",
#                          "30d"); default: the profile's
#   WARDEN_RENEW_UNIT      the unit to `systemctl reload` after renewal
#   WARDEN_RENEW_RELOAD    instead: a shell command to run after renewal
#
# Exit status: 0 renewed or nothing to do, 1 renewal failed (the old
# certificate is untouched), 2 bad settings.
set -eu

log() { printf 'warden-renew: %s\n' "$*" >&2; }
die() {
    log "$2"
    exit "$1"
}

url=${WARDEN_RENEW_URL:-}
cert=${WARDEN_RENEW_CERT:-}
key=${WARDEN_RENEW_KEY:-}
cacert=${WARDEN_RENEW_CACERT:-}
days=${WARDEN_RENEW_DAYS:-30}
validity=${WARDEN_RENEW_VALIDITY:-}
unit=${WARDEN_RENEW_UNIT:-}
reload=${WARDEN_RENEW_RELOAD:-}

[ -n "$url" ] || die 2 "WARDEN_RENEW_URL is not set"
for f in "$cert" "$key" "$cacert"; do
    [ -n "$f" ] || die 2 "WARDEN_RENEW_CERT, _KEY and _CACERT must be set"
    [ -r "$f" ] || die 2 "cannot read $f"
done
case $days in
'' | *[!0-9]*) die 2 "WARDEN_RENEW_DAYS must be a whole number of days" ;;
esac
case $validity in
*[!0-9smhd]* | [!0-9]* | *[0-9]) die 2 "WARDEN_RENEW_VALIDITY is a number and a unit: s, m, h or d" ;;
esac
url=${url%/}

not_after() {
    end=$(openssl x509 -in "$1" -noout -enddate 2>/dev/null) || return 1
    printf '%s\n' "${end#notAfter=}"
}

old_end=$(not_after "$cert") || die 2 "$cert is not a PEM certificate"
if openssl x509 -in "$cert" -noout -checkend $((days * 86400)) >/dev/null; then
    log "$cert ends $old_end, more than $days days ahead: nothing to do"
    exit 0
fi
if ! openssl x509 -in "$cert" -noout -checkend 0 >/dev/null; then
    die 1 "$cert ended $old_end: an expired certificate cannot renew itself; issue a new one"
fi

# Everything is written beside the certificate, so the final rename is
# atomic (same file system) and a failure leaves the old file as it was.
dir=$(dirname "$cert")
tmp=$(mktemp "$dir/.warden-renew.XXXXXX") || die 1 "cannot write in $dir"
trap 'rm -f "$tmp" "$tmp.resp" "$tmp.leaf"' EXIT
trap 'exit 1' INT TERM HUP

body=
if [ -n "$validity" ]; then
    body="{\"validity\": \"$validity\"}"
fi
status=$(curl -sS -o "$tmp.resp" -w '%{http_code}' --max-time 60 \
    --cacert "$cacert" --cert "$cert" --key "$key" \
    -H 'Accept: application/pem-certificate-chain' \
    -H 'Content-Type: application/json' --data-binary "$body" \
    "$url/api/v1/renew") || die 1 "cannot reach $url"
if [ "$status" != 201 ]; then
    die 1 "renewal refused: HTTP $status $(head -c 400 "$tmp.resp")"
fi

# The answer is the PEM chain, leaf first.
awk '/-----BEGIN CERTIFICATE-----/ { n++ } n == 1' "$tmp.resp" >"$tmp.leaf"
openssl verify -CAfile "$cacert" -untrusted "$tmp.resp" "$tmp.leaf" >/dev/null 2>&1 ||
    die 1 "the new certificate does not chain to $cacert"
[ "$(openssl x509 -in "$tmp.leaf" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout)" ] ||
    die 1 "the new certificate does not match $key"
new_end=$(not_after "$tmp.leaf")
[ "$(date -d "$new_end" +%s)" -gt "$(date -d "$old_end" +%s)" ] ||
    die 1 "the new certificate ends $new_end, not after the old one ($old_end)"

if [ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$cert")" -gt 1 ]; then
    cat "$tmp.resp" >"$tmp"
else
    cat "$tmp.leaf" >"$tmp"
fi
chmod --reference="$cert" "$tmp"
chown --reference="$cert" "$tmp" 2>/dev/null || true
sync "$tmp"
mv -f "$tmp" "$cert"
serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
log "renewed $cert: serial $serial, ends $new_end (was $old_end)"

if [ -n "$reload" ]; then
    sh -c "$reload" || die 1 "the reload command failed: $reload"
elif [ -n "$unit" ]; then
    systemctl reload "$unit" || die 1 "systemctl reload $unit failed"
fi
