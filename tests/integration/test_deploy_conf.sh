#!/usr/bin/env bash
# deploy/warden.conf.example is a config the daemon accepts, as it is and
# with the bootstrap admin put back, and deploy/warden.conf.md documents
# every key the config parser knows (server/srv_config.c, srv_policy.c).
source "$(dirname "$0")/lib.sh"
wd_setup
SRC=${WARDEN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
EXAMPLE=$SRC/deploy/warden.conf.example
DOC=$SRC/deploy/warden.conf.md
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null 2>&1 || exit 1
cd "$WD_TMP" || exit 1
cp "$D/warden.conf" init.conf

# as it is: the listeners come from the flags (wd_start), the rest from it
install -m 0640 "$EXAMPLE" "$D/warden.conf"
ACME=127.0.0.1:$(wd_free_port)
if wd_start "$D" --acme-listen "$ACME"; then
    pass "serve accepts warden.conf.example as it is"
    expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://$WD_PUB/healthz")" \
        "/healthz answers 200 with the example config"
    out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates")
    expect_error "$out" 403 forbidden "the example's placeholder admin fingerprint matches nobody"
    expect_eq "https://ca.internal:8444/acme/new-nonce" \
        "$(curl -sS --cacert "$D/ca.crt" "https://$ACME/acme/directory" | jq -r .newNonce)" \
        "ACME runs, its URLs built on the example's acme.base_url"
    wd_stop
    expect_eq 0 "$WD_STOP_STATUS" "and stops cleanly"
else
    fail "serve accepts warden.conf.example as it is"
fi

# with the admins init wrote: the example's settings take effect
jq --slurpfile init init.conf '.admins = $init[0].admins' "$EXAMPLE" >conf.json
install -m 0640 conf.json "$D/warden.conf"
wd_start "$D" --acme-listen "127.0.0.1:$(wd_free_port)" || exit 1
out=$(wd_api "$D" admin "https://$WD_API/api/v1/certificates")
expect_eq 200 "$(status_of "$out")" "with init's admins entry the admin lists certificates"
wd_csr ecdsa-p256 c -subj "/CN=c.svc.internal" 2>/dev/null
jq -n --rawfile csr c.csr '{csr: $csr, profile: "client"}' >c.json
out=$(wd_api "$D" admin -H 'Content-Type: application/json' --data-binary @c.json \
    "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "the admin issues a client certificate"
body_of "$out" | jq -r .certificate >c.crt
text=$(openssl x509 -in c.crt -noout -text)
expect_match "URI:http://ca.internal:8080/crl" "$text" "the certificate points at the example's public_url"
life=$(($(date -d "$(openssl x509 -in c.crt -noout -enddate | cut -d= -f2)" +%s) -
    $(date -d "$(openssl x509 -in c.crt -noout -startdate | cut -d= -f2)" +%s)))
expect_eq $((30 * 86400 + 300)) "$life" "the client profile's default_validity (30d) applies"
wd_stop

# every key the parser knows is documented, and set in the example unless
# it picks the key source (which the example cannot bring); the members
# of "acme" are documented as acme.KEY and set in the example's acme
unpack=$(sed -n '/json_unpack_ex(/,/) != 0) {/p' "$SRC/server/srv_config.c" | tr '\n' ' ')
keys=$(grep -o '"[a-z0-9_]*", *&' <<<"$unpack" | tr -d '",& ' | sort -u)
expect_eq "$(grep -o 's?[a-zA-Z]' <<<"$unpack" | wc -l)" "$(wc -w <<<"$keys")" \
    "every key of srv_config.c's unpack format is found ($(wc -w <<<"$keys"))"
policy_keys=$(grep -E 'match_keys\[\] =|extra\[\] =' "$SRC/server/srv_policy.c" | grep -o '"[a-z0-9_]*"' | tr -d '"' | sort -u)
expect_match "^fingerprint$" "$policy_keys" "the policy's keys are read from srv_policy.c"
missing_doc=
missing_example=
for k in $keys $policy_keys default_validity; do
    grep -q "\`$k\`\|\`grants\[\]\.$k\`\|\`acme\.$k\`" "$DOC" || missing_doc="$missing_doc $k"
done
for k in $keys; do
    case $k in
    intermediate_key | pkcs11_module | intermediate_key_passphrase_file | intermediate_key_passphrase_env) ;;
    *) jq -e --arg k "$k" 'has($k) or (.acme | has($k))' "$EXAMPLE" >/dev/null ||
        missing_example="$missing_example $k" ;;
    esac
done
expect_eq "" "$missing_doc" "warden.conf.md documents every key"
expect_eq "" "$missing_example" "warden.conf.example sets every key but the key source"
expect_eq "server client server-client" "$(jq -r '.profiles | keys_unsorted | join(" ")' "$EXAMPLE")" \
    "the example bounds every profile"

wd_finish
