#!/bin/sh
# Functions the push scripts share. Sourced, never run.
# shellcheck disable=SC2034 # variables are read by the scripts that source this file

STATE=/var/lib/clawd-mesh
PENDING=$STATE/pending

log() { printf 'clawd-mesh[%s]: %s\n' "${NODE_NAME:-?}" "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

# systemd, OpenRC, or none at all (a lab namespace: the lab started sshd with a pid file).
init_system() {
  if [ -d /run/systemd/system ]; then
    echo systemd
  elif command -v rc-service >/dev/null 2>&1; then
    echo openrc
  else
    echo none
  fi
}

# Installs $1 at $2 with mode $3 by writing beside it and renaming, so no reader ever sees
# half a file.
put() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.clawd-mesh-new"
  chmod "$3" "$2.clawd-mesh-new"
  mv -f "$2.clawd-mesh-new" "$2"
}

nft_file() {
  if [ "${NODE_OS:-}" = alpine ]; then echo /etc/nftables.nft; else echo /etc/nftables.conf; fi
}

# Every file a push may write: what a rollback puts back (or removes, if it was not there).
managed_files() {
  echo "/etc/wireguard/$WG_INTERFACE.conf"
  echo "/etc/wireguard/$WG_INTERFACE.key"
  echo /etc/ssh/sshd_config
  echo /etc/ssh/ssh_host_ed25519_key
  echo "/etc/ssh/authorized_keys.d/$ADMIN_USER"
  nft_file
  echo /etc/sysctl.d/60-clawd-mesh.conf
  echo /etc/clawd-mesh/k3s-token
  echo /etc/clawd-mesh/clavitor.env
  echo /usr/local/sbin/clawd-mesh-receive
  echo /etc/sudoers.d/clawd-mesh
  echo /etc/local.d/clawd-mesh-wireguard.start
}

# Copies the managed files that exist into $1, and lists the ones that do not. On NixOS the
# whole of /etc/nixos is kept: the running system is switched back from the system profile.
snapshot() {
  mkdir -p "$1/files"
  [ -d /etc/nixos ] && tar -C /etc -cf "$1/nixos.tar" nixos
  : >"$1/absent"
  for f in $(managed_files); do
    if [ -e "$f" ]; then
      mkdir -p "$1/files$(dirname "$f")"
      cp -p "$f" "$1/files$f"
    else
      echo "$f" >>"$1/absent"
    fi
  done
}

restore() {
  if [ -f "$1/nixos.tar" ]; then
    rm -rf /etc/nixos
    tar -C /etc -xf "$1/nixos.tar"
  fi
  for f in $(managed_files); do
    if [ -e "$1/files$f" ]; then
      cp -p "$1/files$f" "$f"
    elif grep -qx "$f" "$1/absent"; then
      rm -f "$f"
    fi
  done
}

sshd_reload() {
  case $(init_system) in
    systemd) systemctl reload ssh 2>/dev/null || systemctl reload sshd ;;
    openrc) rc-service sshd reload ;;
    none) kill -HUP "$(cat /run/sshd.pid)" ;;
  esac
}

# Brings the running node in line with the files under /etc (the new ones, or restored ones).
activate_generic() {
  sysctl_file=/etc/sysctl.d/60-clawd-mesh.conf
  [ -f "$sysctl_file" ] && sysctl -q -p "$sysctl_file" >/dev/null
  if [ -f "$(nft_file)" ]; then
    nft -f "$(nft_file)"
  else
    nft delete table inet clawd_mesh 2>/dev/null || true
  fi
  conf=/etc/wireguard/$WG_INTERFACE.conf
  if [ ! -f "$conf" ]; then
    ip link del "$WG_INTERFACE" 2>/dev/null || true
  elif ip link show "$WG_INTERFACE" >/dev/null 2>&1; then
    # syncconf changes peers without dropping the sessions of the peers that stay.
    stripped=$(mktemp)
    wg-quick strip "$WG_INTERFACE" >"$stripped"
    wg syncconf "$WG_INTERFACE" "$stripped"
    rm -f "$stripped"
    wg set "$WG_INTERFACE" private-key "/etc/wireguard/$WG_INTERFACE.key"
    # Only a changed address is swapped: the push's own session may be using the old one.
    address=$(sed -n 's/^Address = //p' "$conf")
    if ! ip -4 -o address show dev "$WG_INTERFACE" | grep -q " inet $address "; then
      ip -4 address flush dev "$WG_INTERFACE"
      ip address add "$address" dev "$WG_INTERFACE"
    fi
  else
    wg-quick up "$WG_INTERFACE" >/dev/null 2>&1
  fi
  sshd_reload
}

# The node's own WireGuard identity: address, listen port and key. When it is unchanged by a
# push, existing sessions survive it, and a live session proves the tunnel.
wg_identity() {
  {
    sed -n 's/^\(Address\|ListenPort\) = //p' "/etc/wireguard/$WG_INTERFACE.conf" 2>/dev/null
    cat "/etc/wireguard/$WG_INTERFACE.key" 2>/dev/null
  } | cksum
}

receiver() {
  for r in /run/current-system/sw/bin/clawd-mesh-receive /usr/local/sbin/clawd-mesh-receive; do
    if [ -x "$r" ]; then
      echo "$r"
      return
    fi
  done
}
