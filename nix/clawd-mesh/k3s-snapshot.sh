#!/bin/sh
# Snapshots k3s's datastore (the embedded SQLite of a single server) with SQLite's online
# backup, checks the copy, and keeps the newest seven. Paths can be overridden for tests.
set -eu
db=${K3S_DB:-/var/lib/rancher/k3s/server/db/state.db}
dir=${K3S_SNAPSHOT_DIR:-/var/lib/rancher/k3s/server/db/snapshots}
keep=${K3S_SNAPSHOT_KEEP:-7}
if [ ! -e "$db" ]; then
  echo "no datastore at $db yet; nothing to snapshot"
  exit 0
fi
mkdir -p "$dir"
chmod 700 "$dir"
out="$dir/state-$(date -u +%Y%m%dT%H%M%SZ).db"
sqlite3 "$db" ".backup '$out'"
if [ "$(sqlite3 -readonly "$out" 'PRAGMA integrity_check;')" != "ok" ]; then
  rm -f "$out"
  echo "the snapshot of $db failed its integrity check; removed" >&2
  exit 1
fi
# The names are UTC timestamps, so the glob lists them oldest first: drop all but $keep.
set -- "$dir"/state-*.db
drop=$(($# - keep))
for old in "$@"; do
  [ "$drop" -gt 0 ] || break
  rm -f "$old"
  drop=$((drop - 1))
done
echo "snapshot $out"
