#!/bin/sh
# warden-seed: prepare a data dir from a CA made elsewhere, before `warden
# serve` starts on it. The Kubernetes StatefulSet runs it as an init
# container (the image installs it as /usr/local/bin/warden-seed):
#
#   warden-seed --seed /seed --config /config/warden.conf --dir /var/lib/warden/ca
#
# --seed  a directory holding the CA's files as `warden init` wrote them
#         (a mounted Secret): ca.crt, intermediate.crt, intermediate.key,
#         server.crt, server.key, warden.db, and if present root.crl,
#         admin.crt, ocsp.crt, ocsp.key. Copied only into a data dir that
#         has no CA yet; an existing CA is never overwritten. root.key is
#         never copied: it belongs offline.
# --config  optional: a warden.conf (a mounted ConfigMap) installed on
#         every run, so an edited config takes effect at the next start.
# --dir   the data dir; created 0700 if missing (its parent must exist).
#
# On every run it also takes back what a volume's fsGroup handling may have
# given the group: the dir 0700, keys and the database 0600, because serve
# refuses keys and a data dir that others may read or write. Mounted
# Secrets are symlinks (which serve will not follow) and group-readable:
# copying them is the point.
set -eu

log() { printf 'warden-seed: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

seed=
config=
dir=
while [ $# -gt 0 ]; do
    case $1 in
    --seed) seed=${2:?--seed takes a directory} && shift 2 ;;
    --config) config=${2:?--config takes a file} && shift 2 ;;
    --dir) dir=${2:?--dir takes a directory} && shift 2 ;;
    *) die "usage: warden-seed [--seed DIR] [--config FILE] --dir DIR" ;;
    esac
done
[ -n "$dir" ] || die "usage: warden-seed [--seed DIR] [--config FILE] --dir DIR"

umask 077
[ -d "$dir" ] || mkdir -m 0700 "$dir" || die "cannot create $dir"
# 0700, and no setgid inherited from an fsGroup volume's root
chmod u=rwx,go=,g-s "$dir"

# put NAME MODE [optional]: copy $seed/NAME into the data dir (through the
# Secret's symlinks), written beside and renamed, so a crash leaves no
# half file that serve would take for the real one.
put() {
    if [ ! -e "$seed/$1" ]; then
        [ "${3:-}" = optional ] && return 0
        die "the seed has no $1: give the files of a CA made with warden init"
    fi
    cp -L "$seed/$1" "$dir/.$1.seed"
    chmod "$2" "$dir/.$1.seed"
    mv -f "$dir/.$1.seed" "$dir/$1"
}

if [ -e "$dir/ca.crt" ]; then
    log "$dir holds a CA already: not seeding it"
elif [ -n "$seed" ] && [ -e "$seed/ca.crt" ]; then
    [ ! -e "$seed/root.key" ] ||
        log "WARNING: the seed holds root.key; it is not copied. Keep the root key offline, not in a Secret"
    # the database last: it is what makes the dir a CA to serve
    for f in ca.crt intermediate.crt server.crt; do put "$f" 0644; done
    for f in root.crl admin.crt ocsp.crt; do put "$f" 0644 optional; done
    for f in intermediate.key server.key; do put "$f" 0600; done
    put ocsp.key 0600 optional
    put warden.db 0600
    log "seeded $dir from $seed"
else
    die "$dir holds no CA and no seed was given (--seed with ca.crt): create the CA with warden init and bring it as a Secret"
fi

if [ -n "$config" ]; then
    [ -r "$config" ] || die "cannot read $config"
    cp -L "$config" "$dir/.warden.conf.seed"
    chmod 0640 "$dir/.warden.conf.seed"
    mv -f "$dir/.warden.conf.seed" "$dir/warden.conf"
    log "installed $config as $dir/warden.conf"
fi

# what fsGroup may have widened: secrets and the store back to the owner
find "$dir" -maxdepth 1 -type f \( -name '*.key' -o -name 'warden.db*' -o -name '*.pass' \) \
    -exec chmod 0600 {} +
find "$dir" -maxdepth 1 -type f \( -name '*.crt' -o -name '*.crl' \) -exec chmod 0644 {} +
[ ! -e "$dir/warden.conf" ] || chmod 0640 "$dir/warden.conf"
chmod u=rwx,go=,g-s "$dir"
