#!/bin/sh
# vault.sh install SOURCE SHA256 | revert | restart
# The vault's binary: a new one is fetched (an https URL) or read from stdin ("-"), and its
# sha256 checked before anything is replaced; the binary it replaces is kept, for revert.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$NODE_ENV_FILE"
[ -n "${VAULT_BINARY:-}" ] || fail "this node has no vault role"

# Starts (or restarts) the vault as its unit says: under systemd, the unit; without an init
# system (the lab), as the service user with only the capability to bind 80 and 443.
restart() {
  [ -x "$VAULT_BINARY" ] || return 0
  case $(init_system) in
    systemd) systemctl restart "$VAULT_UNIT" ;;
    *)
      if [ -f /run/clavitor.pid ]; then
        kill "$(cat /run/clavitor.pid)" 2>/dev/null || true
        sleep 1
      fi
      # shellcheck disable=SC2016 # the inner shell expands its own arguments
      setsid sh -c 'set -a; . "$1"; set +a; exec setpriv --reuid=clavitor --regid=clavitor --init-groups --inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- "$2"' \
        vault "$VAULT_ENV_FILE" "$VAULT_BINARY" </dev/null >>/var/log/clavitor.log 2>&1 &
      echo $! >/run/clavitor.pid
      ;;
  esac
}

running() {
  case $(init_system) in
    systemd) systemctl is-active --quiet "$VAULT_UNIT" ;;
    *) [ -f /run/clavitor.pid ] && kill -0 "$(cat /run/clavitor.pid)" 2>/dev/null ;;
  esac
}

case ${1:-} in
  install)
    source=${2:?install needs a source: an https URL, or - for stdin}
    want=${3:?install needs the sha256 of the binary}
    dir=$(dirname "$VAULT_BINARY")
    install -d -m 755 "$dir"
    new=$(mktemp "$dir/.incoming.XXXXXX")
    trap 'rm -f "$new"' EXIT
    case $source in
      https://*) curl -fsSL --proto =https --max-time 600 -o "$new" "$source" || fail "could not download $source" ;;
      -) cat >"$new" ;;
      *) fail "the binary comes from an https URL or stdin, not $source" ;;
    esac
    got=$(sha256sum "$new" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
      fail "sha256 mismatch: expected $want, got $got; keeping the current binary"
    fi
    if [ -f "$VAULT_BINARY" ] && cmp -s "$new" "$VAULT_BINARY"; then
      running || restart
      echo "vault binary $want already installed"
      exit 0
    fi
    [ -f "$VAULT_BINARY" ] && cp -p "$VAULT_BINARY" "$VAULT_BINARY.previous"
    chmod 755 "$new"
    mv -f "$new" "$VAULT_BINARY"
    restart
    echo "vault binary $want installed"
    ;;
  revert)
    [ -f "$VAULT_BINARY.previous" ] || fail "no previous vault binary to go back to"
    mv -f "$VAULT_BINARY.previous" "$VAULT_BINARY"
    restart
    echo "vault binary reverted to $(sha256sum "$VAULT_BINARY" | cut -d' ' -f1)"
    ;;
  restart) restart ;;
  *) fail "vault.sh: use install SOURCE SHA256, revert or restart" ;;
esac
