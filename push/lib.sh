#!/bin/sh
# Functions the push scripts share. Sourced, never run.
# shellcheck disable=SC2034 # variables are read by the scripts that source this file

log() { printf 'clawd-mesh[%s]: %s\n' "${NODE_NAME:-?}" "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

# The init system decides how services are (re)started: systemd, OpenRC, or none at all
# (a lab namespace, where the lab started sshd itself and left its pid file).
init_system() {
  if [ -d /run/systemd/system ]; then
    echo systemd
  elif command -v rc-service >/dev/null 2>&1; then
    echo openrc
  else
    echo none
  fi
}

# Installs $1 at $2 with mode $3 (owner root) by writing beside it and renaming, so a reader
# never sees half a file.
put() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.clawd-mesh-new"
  chmod "$3" "$2.clawd-mesh-new"
  mv -f "$2.clawd-mesh-new" "$2"
}

nft_file() {
  if [ "${NODE_OS:-}" = alpine ]; then echo /etc/nftables.nft; else echo /etc/nftables.conf; fi
}
