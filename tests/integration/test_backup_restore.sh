#!/usr/bin/env bash
# Backup and restore end to end: `warden backup` takes a consistent copy
# while the daemon issues under load; every certificate whose 201 arrived
# before the backup started is in it, and none issued after it ended.
# `warden restore` puts it into a new data dir of the same CA, which then
# serves those certificates, issues more and passes `audit verify`; it
# refuses a dir of another CA, a damaged file, a file that is not a
# database, and a dir whose daemon is running, changing nothing; restored
# over the original dir it keeps the previous database, never lets the
# CRL number go back, and warns about what was made after the backup.
source "$(dirname "$0")/lib.sh"
wd_setup
D=$WD_TMP/ca
"$WARDEN_BIN" init --dir "$D" >/dev/null || exit 1
# bulk, so that the copy takes several steps (of 1024 pages) while the
# load commits between them: copies of the daemon's certificate, whose
# bytes still match their fingerprint and were issued by this CA
sqlite3 "$D/warden.db" "with recursive n(i) as (select 1 union all select i + 1 from n
  where i < 20000) insert into certificates (serial, der, subject, cn, sans, key_type,
  profile, requester, fingerprint, not_before, not_after, issued_at)
  select printf('b%031x', i), der, subject, 'bulk-' || i, sans, key_type, profile,
  requester, fingerprint, not_before, not_after, issued_at
  from n, (select * from certificates order by id limit 1)" || exit 1
wd_start "$D" || exit 1
D_API=$WD_API
cd "$WD_TMP" || exit 1
WD_CACERT=$D/ca.crt
count() { sqlite3 "$1/warden.db" "select count(*) from certificates"; }
crl_number() { sqlite3 "$1/warden.db" "select value from meta where key = 'crl_number'"; }
now_ns() { date +%s%N; }
# what a restore may leave in a dir: the kept database, a staged copy
leftovers() { find "$1" -maxdepth 1 \( -name '*.pre-restore-*' -o -name '*.restore-*' \) -printf '%f\n'; }

# The load: issue in a loop until told to stop, logging for each 201 the
# time the request started, the time its answer arrived, and the serial.
wd_csr ecdsa-p256 load -subj "/CN=load.svc.internal" 2>/dev/null
load() {
    local t0 t1 out
    while [ ! -e stop ]; do
        t0=$(now_ns)
        out=$(curl -sS --cacert "$D/ca.crt" --cert "$D/admin.crt" --key "$D/admin.key" \
            --data-binary @load.csr -w '\n%{http_code}' "https://$D_API/api/v1/certificates")
        t1=$(now_ns)
        if [ "$(status_of "$out")" = 201 ]; then
            echo "$t0 $t1 $(body_of "$out" | jq -r .serial)"
        fi
    done >"$1"
}
load issued.1 &
L1=$!
load issued.2 &
L2=$!
sleep 2.5
B0=$(now_ns)
out=$("$WARDEN_BIN" backup --dir "$D" backup.db 2>backup.err)
status=$?
B1=$(now_ns)
sleep 2.5
touch stop
wait "$L1" "$L2"
cat issued.1 issued.2 >issued
expect_eq 0 "$status" "backup exits 0 while the daemon issues"
expect_match "^backed up $D/warden.db to backup.db: [0-9]+ certificates \(0 revoked\), [0-9]+ audit events, schema version [0-9]+$" \
    "$out" "backup prints a one-line summary"
pages=$(grep -oE 'pages[^0-9]{1,3}[0-9]+' backup.err | grep -oE '[0-9]+$')
[ "${pages:-0}" -gt 2048 ] && pass "the copy took several steps ($pages pages)" ||
    fail "the copy took several steps ($pages pages)"
expect_eq 600 "$(stat -c %a backup.db)" "the backup is mode 0600"
expect_eq delete "$(sqlite3 backup.db 'pragma journal_mode')" "the backup is one file, not WAL"
awk -v b="$B0" '$2 < b { print $3 }' issued >before
awk -v b="$B1" '$1 > b { print $3 }' issued >after
n_before=$(wc -l <before)
n_after=$(wc -l <after)
[ "$n_before" -ge 3 ] && [ "$n_after" -ge 3 ] &&
    pass "the load issued before ($n_before) and after ($n_after) the backup" ||
    fail "the load issued before ($n_before) and after ($n_after) the backup"
in_backup=$(sqlite3 backup.db "select serial from certificates" | sort)
expect_eq "$n_before" "$(comm -12 <(sort before) <(echo "$in_backup") | wc -l)" \
    "every certificate answered before the backup started is in it"
expect_eq 0 "$(comm -12 <(sort after) <(echo "$in_backup") | wc -l)" \
    "no certificate issued after the backup ended is in it"
expect_eq "$(sqlite3 backup.db 'select count(*) from certificates')" \
    "$(echo "$out" | sed -E 's/.*: ([0-9]+) certificates.*/\1/')" "the summary counts the backup's certificates"

# the daemon still runs on D: a restore there is refused, D untouched
before_d=$(count "$D")
err=$("$WARDEN_BIN" restore --dir "$D" backup.db 2>&1 >/dev/null)
expect_eq 1 $? "restore while the daemon runs exits 1"
expect_match "is open in another process" "$err" "and says the database is in use"
expect_eq "$before_d" "$(count "$D")" "and D's database is untouched"
expect_eq "" "$(leftovers "$D")" "and leaves no file behind"

# after the backup: one more revocation, so the CRL number moves on
A=$(head -n 1 before)
out=$(wd_api "$D" admin -X POST "https://$D_API/api/v1/certificates/$A/revoke")
expect_eq 200 "$(status_of "$out")" "a certificate in the backup is revoked after it"
sleep 0.5
crl_after=$(crl_number "$D")
crl_backup=$(sqlite3 backup.db "select value from meta where key = 'crl_number'")
[ "$crl_after" -gt "$crl_backup" ] && pass "the CRL number moved on since the backup" ||
    fail "the CRL number moved on since the backup ($crl_backup -> $crl_after)"
issued_total=$(count "$D")
wd_stop
expect_eq 0 "$WD_STOP_STATUS" "the daemon stops cleanly"

# a new dir of the same CA: the CA's files, no database
N=$WD_TMP/new
mkdir -m 700 "$N"
find "$D" -maxdepth 1 -type f ! -name 'warden.db*' -exec cp -p {} "$N"/ \;
out=$("$WARDEN_BIN" restore --dir "$N" backup.db 2>restore.err)
expect_eq 0 $? "restore into a new dir of the same CA exits 0"
expect_match "^restored backup.db into $N/warden.db: [0-9]+ certificates \(0 revoked\), [0-9]+ audit events, schema version [0-9]+$" \
    "$out" "restore prints a one-line summary"
expect_eq 0 "$("$WARDEN_BIN" audit verify --dir "$N" >/dev/null 2>&1; echo $?)" \
    "the restored database passes audit verify"
wd_start "$N" || exit 1
missing=0
while read -r s; do
    st=$(status_of "$(wd_api "$N" admin "https://$WD_API/api/v1/certificates/$s" -o /dev/null)")
    [ "$st" = 200 ] || missing=$((missing + 1))
done <before
expect_eq 0 "$missing" "the restored daemon serves all $n_before certificates issued before the backup"
present=0
while read -r s; do
    st=$(status_of "$(wd_api "$N" admin "https://$WD_API/api/v1/certificates/$s" -o /dev/null)")
    [ "$st" = 404 ] || present=$((present + 1))
done < <(head -n 20 after)
expect_eq 0 "$present" "and knows none issued after it"
out=$(wd_api "$N" admin --data-binary @load.csr "https://$WD_API/api/v1/certificates")
expect_eq 201 "$(status_of "$out")" "the restored daemon issues"
wd_stop
expect_eq 0 "$("$WARDEN_BIN" audit verify --dir "$N" >/dev/null 2>&1; echo $?)" \
    "and its audit log still verifies"

# another CA's dir: refused, untouched
O=$WD_TMP/other
"$WARDEN_BIN" init --dir "$O" >/dev/null || exit 1
before_o=$(count "$O")
err=$("$WARDEN_BIN" restore --dir "$O" backup.db 2>&1 >/dev/null)
expect_eq 1 $? "restore into another CA's dir exits 1"
expect_match "backup.db belongs to another CA: certificate [0-9a-f]+ was not issued by $O/intermediate.crt" \
    "$err" "and says the backup belongs to another CA"
expect_eq "$before_o" "$(count "$O")" "and the other CA's database is untouched"
expect_eq "" "$(leftovers "$O")" "and no file is left behind"

# a damaged backup and a file that is not a database: refused
cp backup.db damaged.db
pages=$(sqlite3 backup.db 'pragma page_count')
page=$(sqlite3 backup.db 'pragma page_size')
for i in 0 1 2; do
    head -c 16 /dev/zero | tr '\0' '\377' |
        dd of=damaged.db bs=1 seek=$(((pages / 2 + i) * page)) conv=notrunc 2>/dev/null
done
before_n=$(count "$N")
err=$("$WARDEN_BIN" restore --dir "$N" damaged.db 2>&1 >/dev/null)
expect_eq 1 $? "restore of a damaged backup exits 1"
expect_match "damaged.db is not a usable backup: damaged" "$err" "and says it is damaged"
head -c 100000 /dev/urandom >random.db
err=$("$WARDEN_BIN" restore --dir "$N" random.db 2>&1 >/dev/null)
expect_eq 1 $? "restore of random bytes exits 1"
expect_match "random.db is not a usable backup: .*not a SQLite database" "$err" \
    "and says it is not a database"
expect_eq "$before_n" "$(count "$N")" "the dir's database is untouched by both"
expect_eq "" "$(leftovers "$N")" "and no file is left behind"

# back over the original dir, stopped now: the old database is kept, the
# CRL number does not go back, and the lost work is named
out=$("$WARDEN_BIN" restore --dir "$D" backup.db 2>restore.err)
expect_eq 0 $? "restore over the original dir exits 0"
keep=$(leftovers "$D")
expect_match '^warden\.db\.pre-restore-[0-9]{8}T[0-9]{6}Z$' "$keep" "the previous database is kept"
expect_match "the previous database is $D/$keep" "$out" "and the summary names it"
expect_eq "$issued_total" "$(sqlite3 "$D/$keep" 'select count(*) from certificates')" \
    "the kept database holds every certificate issued"
lost=$((issued_total - $(sqlite3 backup.db 'select count(*) from certificates')))
expect_match "warning: .*$keep holds $lost certificates and 1 revocations made after the backup" \
    "$(cat restore.err)" "restore warns about the certificates and the revocation made after the backup"
crl_now=$(crl_number "$D")
expect_eq "$crl_after" "$crl_now" "the restored database keeps the higher CRL number"
wd_start "$D" || exit 1
out=$(curl -sS "http://$WD_PUB/crl" | openssl crl -inform DER -noout -crlnumber)
n=$((${out#crlNumber=})) # 0x.. hex
[ "$n" -gt "$crl_after" ] && pass "the restored daemon's CRL number ($n) is past the last one published" ||
    fail "the restored daemon's CRL number ($n) is past the last one published ($crl_after)"
wd_stop

# --force restores another CA's backup anyway
out=$("$WARDEN_BIN" restore --dir "$O" --force backup.db 2>/dev/null)
expect_eq 0 $? "restore --force into another CA's dir exits 0"
expect_match "CA check skipped \(--force\)" "$out" "and says the CA check was skipped"

wd_finish
