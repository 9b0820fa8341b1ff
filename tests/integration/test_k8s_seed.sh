#!/usr/bin/env bash
# deploy/warden-seed.sh, the Kubernetes init container's step, on what a
# pod sees: a CA made offline by `warden init` (the intermediate's key
# encrypted) mounted as a Secret (symlinks into a ..data dir,
# group-readable), deploy/k8s/configmap.yaml's warden.conf, and a volume
# whose fsGroup handling made everything group-writable. The daemon must
# then serve that CA with the passphrase from the environment, the admin
# made offline must work, and a later run must keep the CA and its store.
source "$(dirname "$0")/lib.sh"
wd_setup
SRC=${WARDEN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SEED=$SRC/deploy/warden-seed.sh
cd "$WD_TMP" || exit 1

# the operator's side: a CA made offline, the key encrypted
mkdir offline
"$WARDEN_BIN" init --dir offline/ca --hosts warden-api,localhost,127.0.0.1 >/dev/null 2>&1 || exit 1
echo 'correct horse battery staple' >pass
openssl pkcs8 -topk8 -v2 aes-256-cbc -in offline/ca/intermediate.key -out enc.key \
    -passout file:pass 2>/dev/null || exit 1
mv enc.key offline/ca/intermediate.key
chmod 0600 offline/ca/intermediate.key

# a Secret volume as the kubelet lays it out
ts=..2024_01_01_00_00_00.000000000
mkdir -p "secret/$ts"
for f in ca.crt intermediate.crt intermediate.key server.crt server.key warden.db root.crl \
    admin.crt root.key; do
    cp "offline/ca/$f" "secret/$ts/$f"
    chmod 0644 "secret/$ts/$f"
    ln -s "..data/$f" "secret/$f"
done
ln -s "$ts" secret/..data
# the ConfigMap's warden.conf (deploy/k8s/configmap.yaml), with the admins
# entry of the offline CA in place of the placeholder, as its comment says
mkdir -p config
sed -n '/^  warden.conf: |$/,$p' "$SRC/deploy/k8s/configmap.yaml" | tail -n +2 | sed 's/^    //' >cm.conf
jq -e 'type == "object"' cm.conf >/dev/null && pass "the ConfigMap's warden.conf is a JSON object" ||
    fail "the ConfigMap's warden.conf is a JSON object"
jq --slurpfile init offline/ca/warden.conf '.admins = $init[0].admins' cm.conf >config/warden.conf
# the volume: fsGroup leaves its root group-writable and setgid
mkdir -m 2770 vol

out=$(sh "$SEED" --seed secret --config config/warden.conf --dir vol/ca 2>&1)
expect_eq 0 $? "warden-seed seeds an empty volume"
expect_match "not copied" "$out" "it warns about root.key in the seed"
[ -e vol/ca/root.key ] && fail "root.key is not copied" || pass "root.key is not copied"
expect_eq 700 "$(stat -c %a vol/ca)" "the data dir is 0700"
expect_eq "600 600 600" "$(stat -c %a vol/ca/intermediate.key vol/ca/server.key vol/ca/warden.db | paste -sd' ')" \
    "keys and the store are 0600"
expect_eq 640 "$(stat -c %a vol/ca/warden.conf)" "warden.conf is 0640"
[ -L vol/ca/intermediate.key ] && fail "files are copied, not linked" || pass "files are copied, not linked"
cmp -s offline/ca/intermediate.key vol/ca/intermediate.key && pass "the intermediate's key is the offline one" ||
    fail "the intermediate's key is the offline one"
expect_eq "" "$(find vol/ca -name '.*.seed')" "no temporary file is left"

WARDEN_KEY_PASSPHRASE=$(cat pass) wd_start vol/ca || exit 1
pass "serve starts on the seeded dir and the ConfigMap's config, the passphrase from the environment"
expect_match "event=ca_key_loaded source=intermediate.key" "$(cat "$WD_LOG")" "it loads the seeded key"
out=$(wd_api offline/ca admin --cacert offline/ca/ca.crt "https://$WD_API/api/v1/certificates")
expect_eq 200 "$(status_of "$out")" "the admin made offline lists certificates"
wd_csr ecdsa-p256 svc -subj "/CN=svc.internal" 2>/dev/null
out=$(wd_api offline/ca admin --cacert offline/ca/ca.crt --data-binary @svc.csr \
    "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "the seeded CA issues"
body_of "$out" | jq -r .certificate >svc.crt
expect_match ": OK$" "$(openssl verify -CAfile offline/ca/ca.crt -untrusted offline/ca/intermediate.crt svc.crt 2>&1)" \
    "what it issues chains to the offline root"
serial=$(body_of "$out" | jq -r .serial)
wd_stop

# a restart: fsGroup widened every mode again, the ConfigMap changed
chmod -R g+rw vol/ca
jq '.expiring_window = "14d"' config/warden.conf >config/new && mv config/new config/warden.conf
out=$(sh "$SEED" --seed secret --config config/warden.conf --dir vol/ca 2>&1)
expect_eq 0 $? "warden-seed runs again on a seeded volume"
expect_match "holds a CA already" "$out" "it does not seed twice"
expect_eq "700 600 600 640" "$(stat -c %a vol/ca vol/ca/intermediate.key vol/ca/warden.db vol/ca/warden.conf | paste -sd' ')" \
    "it takes back what fsGroup gave the group"
expect_eq 14d "$(jq -r .expiring_window vol/ca/warden.conf)" "the ConfigMap's new warden.conf is installed"
expect_eq http://warden-public.warden.svc:8080 "$(jq -r .public_url vol/ca/warden.conf)" \
    "the config is the ConfigMap's"
WARDEN_KEY_PASSPHRASE=$(cat pass) wd_start vol/ca || exit 1
out=$(wd_api offline/ca admin --cacert offline/ca/ca.crt "https://$WD_API/api/v1/certificates/$serial")
expect_eq 200 "$(status_of "$out")" "the store kept what was issued before the restart"
wd_stop

# without the passphrase the daemon refuses, and says why
"$WARDEN_BIN" serve --dir vol/ca --listen "127.0.0.1:$(wd_free_port)" \
    --public-listen "127.0.0.1:$(wd_free_port)" >nopass.log 2>&1
expect_eq 1 $? "serve refuses to start without the passphrase"
expect_match "event=passphrase_missing env=WARDEN_KEY_PASSPHRASE" "$(cat nopass.log)" "and names the variable"

# no CA and no seed: a clear refusal
out=$(sh "$SEED" --dir vol/empty 2>&1)
expect_eq 1 $? "warden-seed refuses an empty volume without a seed"
expect_match "no seed was given" "$out" "and says why"
# a seed without the store is not a CA
mkdir partial
cp offline/ca/ca.crt offline/ca/intermediate.crt offline/ca/intermediate.key \
    offline/ca/server.crt offline/ca/server.key partial/
out=$(sh "$SEED" --seed partial --dir vol/partial 2>&1)
expect_eq 1 $? "warden-seed refuses a seed without warden.db"
expect_match "the seed has no warden.db" "$out" "and names the missing file"

wd_finish
