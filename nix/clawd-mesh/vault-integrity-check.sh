#!/bin/sh
# Runs SQLite's integrity check on the vault database. sqlite3 exits 0 even when the check
# finds damage, so the answer itself is tested: anything but "ok" fails the unit.
set -eu
db="${CLAVITOR_DB:?CLAVITOR_DB is not set}"
if [ ! -e "$db" ]; then
  echo "no database at $db yet; nothing to check"
  exit 0
fi
result="$(sqlite3 -readonly "$db" 'PRAGMA integrity_check;')"
if [ "$result" != "ok" ]; then
  printf 'integrity check of %s failed:\n%s\n' "$db" "$result" >&2
  exit 1
fi
echo "integrity check of $db: ok"
