#!/bin/sh
# Functions the push scripts share. Sourced, never run.
# shellcheck disable=SC2034 # variables are read by the scripts that source this file

STATE=/var/lib/clawd-mesh
PENDING=$STATE/pending

# One lock for apply, confirm and rollback (on file descriptor 9): a confirmation and the
# rollback can never both act on one push, and a second apply waits, then finds the first
# one pending. Whatever may start a daemon (activation, package installs, the sleeper) runs
# with it closed (9>&-): a daemon that inherited it (wireguard-go, say) would hold the lock
# for as long as it runs.
take_lock() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  exec 9>"$STATE/lock"
  flock 9
}

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
# half a file. Targets whose content changes are noted in $CHANGED, when set.
put() {
  if [ -n "${CHANGED:-}" ] && ! cmp -s "$1" "$2"; then echo "$2" >>"$CHANGED"; fi
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
  echo /etc/clawd-mesh/node.env
  for f in lib.sh vault.sh ollama-models ollama-models.txt vault-integrity-check k3s-snapshot; do
    echo "$LIBEXEC/$f"
  done
  for f in clavitor.service clavitor-integrity.service clavitor-integrity.timer \
    k3s-snapshot.service k3s-snapshot.timer clawd-mesh-ollama-models.service \
    ollama.service.d/clawd-mesh.conf; do
    echo "/etc/systemd/system/$f"
  done
  echo /etc/rancher/k3s/config.yaml
  echo /etc/fail2ban/jail.d/clawd-mesh-sshd.local
  echo /etc/apt/apt.conf.d/20auto-upgrades
  echo /etc/apt/apt.conf.d/52clawd-mesh-security-only
}

LIBEXEC=/usr/local/lib/clawd-mesh
# What the last confirmed push left: its bundle's digest and the live state it produced.
INSTALLED=$STATE/installed

# Files that hold a key or a token: never printed, not even as a digest.
secret_file() {
  case $1 in
    /etc/wireguard/*.key | /etc/ssh/ssh_host_ed25519_key | */k3s-token | */clavitor.env) return 0 ;;
  esac
  return 1
}

# The node's live state as its own tools print it, with nothing secret and nothing that moves
# by itself, so two readings of an untouched node are equal: what a drift check compares.
# sshd -T reads the configuration on disk (what the next reload or login runs), nft the
# project's own table only (Docker's, k3s' and fail2ban's are theirs), wg the interface.
live_state() {
  echo "## sshd -T"
  sshd -T 2>&1 || true
  echo "## nft list table inet clawd_mesh"
  nft -s list table inet clawd_mesh 2>&1 || true
  echo "## wg showconf $WG_INTERFACE"
  wg_public_state "/etc/wireguard/$WG_INTERFACE.conf"
  echo "## files"
  for f in $(managed_files) /etc/nixos/configuration.nix /etc/nixos/node.json /etc/nixos/clawd-mesh/*; do
    secret_file "$f" && continue
    [ -f "$f" ] && sha256sum "$f"
  done
  return 0
}

# wg showconf without the private and preshared keys, one line per fact, sorted (wireguard-go
# lists peers in map order). A peer the configuration gives no endpoint roams: WireGuard
# learns its address from its packets, so that endpoint is left out. $1: the configuration.
wg_public_state() {
  fixed=$(awk '/^\[Peer\]/ { key = "" } /^PublicKey *=/ { key = $3 } /^Endpoint *=/ && key != "" { printf " %s", key }' \
    "$1" 2>/dev/null || true)
  wg showconf "$WG_INTERFACE" 2>&1 | awk -v fixed="$fixed " '
    /^\[(Interface|Peer)\]/ || /^[[:space:]]*$/ { next }
    /^(PrivateKey|PresharedKey) *=/ { next }
    /^PublicKey *=/ { peer = $3; print "peer " peer; next }
    peer == "" { print "interface: " $0; next }
    /^Endpoint *=/ && index(fixed, " " peer " ") == 0 { next }
    { print "peer " peer ": " $0 }' | LC_ALL=C sort
}

# Records a confirmed push: the digest of its bundle ($1, a file) and the live state now.
record_installed() {
  mkdir -p "$INSTALLED"
  chmod 700 "$INSTALLED"
  if [ -f "$1" ]; then
    cp "$1" "$INSTALLED/bundle.sha256.new"
    mv -f "$INSTALLED/bundle.sha256.new" "$INSTALLED/bundle.sha256"
  fi
  live_state >"$INSTALLED/live.new"
  mv -f "$INSTALLED/live.new" "$INSTALLED/live"
}

# Restarts the role services whose files are listed in $1 ("all" after a rollback). Without
# an init system only the vault runs (the lab's stand-in), by vault.sh.
activate_roles() {
  changed=$1
  touched() { [ "$changed" = all ] || grep -q "$1" "$changed" 2>/dev/null; }
  loaded() { [ "$(systemctl show -p LoadState --value "$1.service")" = loaded ]; }
  if [ "$(init_system)" = systemd ]; then
    systemctl daemon-reload
    for timer in clavitor-integrity.timer k3s-snapshot.timer; do
      [ -f "/etc/systemd/system/$timer" ] && systemctl enable --now --quiet "$timer"
    done
    if [ -f /etc/systemd/system/clavitor.service ]; then
      systemctl enable --quiet clavitor
      if [ -x "${VAULT_BINARY:-/nonexistent}" ] && touched 'clavitor\.\(service\|env\)'; then
        systemctl restart clavitor
      fi
    fi
    # Ollama's and k3s' own units come with their software, which may not be installed yet:
    # try-restart fails on a unit systemd cannot find, as does starting the models' unit that
    # needs Ollama's, and either would fail the push.
    touched 'ollama.service.d' && loaded ollama && systemctl try-restart ollama
    touched 'ollama-models' && loaded ollama && systemctl start --no-block clawd-mesh-ollama-models
    touched 'k3s' && loaded k3s && systemctl try-restart k3s
    # Not only a running fail2ban: Debian 12's starts failed at its install (its sshd jail
    # finds no log file until ours says backend = systemd), and try- would leave it so.
    if touched 'fail2ban' && [ -f /etc/fail2ban/jail.d/clawd-mesh-sshd.local ]; then
      systemctl enable --quiet fail2ban
      systemctl reload-or-restart fail2ban
    fi
  elif [ -f /etc/clawd-mesh/node.env ] && grep -q '^VAULT_BINARY=' /etc/clawd-mesh/node.env; then
    touched 'clavitor' && sh "$LIBEXEC/vault.sh" restart
  fi
  return 0
}

# Copies the managed files that exist into $1, and lists the ones that do not. On NixOS the
# whole of /etc/nixos is kept: the running system is switched back from the system profile.
# The sudo rules are kept whole too: a push may take grants away from the admin account.
snapshot() {
  mkdir -p "$1/files"
  [ -d /etc/nixos ] && tar -C /etc -cf "$1/nixos.tar" nixos
  [ -f /etc/sudoers ] && [ -d /etc/sudoers.d ] && tar -C /etc -cf "$1/sudoers.tar" sudoers sudoers.d
  : >"$1/sudo-groups"
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

# restore DIR [keep-access]: puts back what snapshot DIR holds. keep-access leaves the receiver
# and the sudo rules as they are (a decommission is confirmed through them).
restore() {
  if [ -f "$1/nixos.tar" ]; then
    rm -rf /etc/nixos
    tar -C /etc -xf "$1/nixos.tar"
  fi
  [ "${2:-}" = keep-access ] || restore_access "$1"
  for f in $(managed_files); do
    case $f in
      /usr/local/sbin/clawd-mesh-receive | /etc/sudoers.d/clawd-mesh) continue ;;
    esac
    restore_file "$1" "$f"
  done
}

# The receiver and the sudo rules (files and group memberships) as snapshot $1 holds them.
restore_access() {
  if [ -f "$1/sudoers.tar" ]; then
    rm -rf /etc/sudoers.d
    tar -C /etc -xf "$1/sudoers.tar"
  fi
  while read -r group; do
    [ -n "$group" ] && group_member add "$ADMIN_USER" "$group"
  done <"$1/sudo-groups"
  for f in /usr/local/sbin/clawd-mesh-receive /etc/sudoers.d/clawd-mesh; do
    restore_file "$1" "$f"
  done
}

restore_file() {
  if [ -e "$1/files$2" ]; then
    cp -p "$1/files$2" "$2"
  elif grep -qx "$2" "$1/absent"; then
    rm -f "$2"
  fi
}

# group_member add|remove USER GROUP, with whichever tool the OS has.
group_member() {
  if command -v gpasswd >/dev/null 2>&1; then
    if [ "$1" = add ]; then gpasswd -a "$2" "$3" >/dev/null; else gpasswd -d "$2" "$3" >/dev/null; fi
  elif [ "$1" = add ]; then
    addgroup "$2" "$3"
  else
    delgroup "$2" "$3"
  fi
}

# What sudo lets the admin account run beyond the receiver, one rule per line (none: nothing).
sudo_beyond_receiver() {
  command -v sudo >/dev/null 2>&1 || return 0
  sudo -l -U "$ADMIN_USER" 2>/dev/null |
    awk '/may run the following commands/ { on = 1; next } on && /^[[:space:]]/ { print }' |
    sed 's/^[[:space:]]*//' |
    grep -Ev '^\(root\) NOPASSWD: (/usr/local/sbin|/run/current-system/sw/bin)/clawd-mesh-receive$' || true
}

# The roles' health endpoints that answer now, one a line: recorded before a switch, and each
# must answer again before the switch is kept. A role whose software is not there (not yet
# installed, a new role) answers nothing before and is not asked after. Any 2xx answers, and
# 401 or 403 too: an API that wants credentials (k3s's) is up.
answering_roles() {
  command -v curl >/dev/null 2>&1 || return 0
  for url in "${VAULT_HEALTH_URL:-}" "${OLLAMA_HEALTH_URL:-}" "${K3S_HEALTH_URL:-}"; do
    [ -n "$url" ] && answers "$url" && echo "$url"
  done
  return 0
}

answers() {
  code=$(curl -sk -o /dev/null --max-time 3 -w '%{http_code}' "$1" 2>/dev/null) || true
  case $code in 2?? | 401 | 403) return 0 ;; *) return 1 ;; esac
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

# The stack's pinned nixpkgs (NIXPKGS_URL, NIXPKGS_SHA256 from the bundle's env), fetched into
# the store and kept only if its unpacked tree hashes to NIXPKGS_SHA256; already there, it is
# not fetched again. Prints its store path: the same one the module's fetchTarball names.
# $1: where to leave nix-prefetch-url's messages.
fetch_nixpkgs() {
  out=$(nix-prefetch-url --unpack --name source --print-path "$NIXPKGS_URL" "$NIXPKGS_SHA256" 2>"$1") ||
    return 1
  printf '%s\n' "$out" | sed -n 2p
}

# nixos-rebuild ACTION NIXPKGS: from the pinned tree only. NIX_PATH is replaced, not extended,
# so neither a channel nor the caller's environment can slip another nixpkgs in.
nixos_rebuild() {
  NIX_PATH="nixpkgs=$2:nixos-config=/etc/nixos/configuration.nix" \
    nixos-rebuild "$1" -I "nixpkgs=$2" -I nixos-config=/etc/nixos/configuration.nix
}

receiver() {
  for r in /run/current-system/sw/bin/clawd-mesh-receive /usr/local/sbin/clawd-mesh-receive; do
    if [ -x "$r" ]; then
      echo "$r"
      return
    fi
  done
}
