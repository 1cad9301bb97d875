#!/bin/sh
# Functions the push scripts share. Sourced, never run.
# shellcheck disable=SC2034 # variables are read by the scripts that source this file

STATE=/var/lib/clawd-mesh
PENDING=$STATE/pending
# What the last confirmed push left: its bundle's digest, its node.env and scripts, and the
# live state it produced.
INSTALLED=$STATE/installed
# Where the scripts start from on a node: its facts and the manifest of what is installed
# (core/plan/files.ts names the same two paths; a test holds them equal). Every other path
# comes from the manifest (see core/plan/files.ts) or from node.env.
NODE_ENV_FILE=/etc/clawd-mesh/node.env
MANIFEST_FILE=/etc/clawd-mesh/manifest

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

# stop_follows all|ahead|behind [ADDRESS]: ends the follows (follow.sh) of that mode still
# running here, of one address or of all, and waits (5 s at most) for each to leave its keys
# in place. A pid is only signalled while it still runs follow.sh: one that ended long ago may
# have been given to another process.
stop_follows() {
  which=$1
  if [ -n "${2:-}" ]; then set -- "$STATE/follow/$2"; else set -- "$STATE"/follow/*; fi
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    case $pid in *[!0-9]* | "") continue ;; esac
    running=$(follow_args "$f")
    if [ -n "$running" ]; then
      case $which in all | "${running##* }") ;; *) continue ;; esac
      kill "$pid" 2>/dev/null || true
      tries=0
      while [ -d "/proc/$pid" ] && [ "$tries" -lt 10 ]; do
        sleep 0.5
        tries=$((tries + 1))
      done
    fi
    rm -f "$f"
  done
}
# The arguments of the follow whose pid file is $1 (address, seconds, new key, previous key,
# mode), or nothing when that pid no longer runs follow.sh (it may have gone to another process).
follow_args() {
  pid=$(cat "$1" 2>/dev/null) || return 0
  case $pid in *[!0-9]* | "") return 0 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
    awk '$(NF - 5) ~ /follow\.sh$/ { print $(NF - 4), $(NF - 3), $(NF - 2), $(NF - 1), $NF }'
}

# The follows ahead of a rotated hub or entry node running here, one a line: address, seconds,
# new key, previous key.
ahead_follows() {
  for f in "$STATE"/follow/*; do
    [ -f "$f" ] || continue
    args=$(follow_args "$f")
    case $args in *" ahead") echo "${args% ahead}" ;; esac
  done
}

fail() {
  log "$*"
  exit 1
}

# The init system node.env names (the OS profile, core/plan/osProfile.ts) when it is the one
# running, else none: a host started without its init (a container, the lab's init-less
# hosts), where the scripts start and signal the daemons themselves.
init_system() {
  case ${INIT_SYSTEM:?node.env names no INIT_SYSTEM: push again with this version of clawd-mesh} in
    systemd) [ -d /run/systemd/system ] && echo systemd || echo none ;;
    # OpenRC keeps its state there once it has booted the host; rc-service refuses otherwise.
    openrc) [ -d /run/openrc ] && echo openrc || echo none ;;
    *) echo none ;;
  esac
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

# manifest_rows MANIFEST MODE: the rows a push in MODE installs (normal and decommission: the
# mesh rows; bootstrap: the first-contact ones), as "phase kind source destination mode check
# on-change" (see core/render/manifest.ts).
manifest_rows() {
  case $2 in bootstrap) other=mesh ;; *) other=first ;; esac
  grep -v '^#' "$1" | awk -v other="$other" 'NF == 7 && $1 != other'
}

# destinations MANIFEST...: the files the manifests place, in any phase (not directories).
destinations() {
  for m in "$@"; do [ -f "$m" ] && grep -v '^#' "$m"; done | awk 'NF == 7 && $2 != "dir" { print $4 }' | LC_ALL=C sort -u
}

# The admin account's way in (the receiver, its sudo rule), as the pending push's manifests
# name them: a decommission puts everything else back first and these last.
access_files() {
  cat "$PENDING/manifest" "$PENDING/manifest.before" 2>/dev/null | awk '$2 == "access" { print $4 }'
}

# The node's live state as its own tools print it, with nothing secret and nothing that moves
# by itself, so two readings of an untouched node are equal: what a drift check compares.
# sshd -T reads the configuration on disk (what the next reload or login runs), nft the
# project's own table only (Docker's, k3s' and fail2ban's are theirs), wg the interface.
live_state() {
  echo "## sshd -T"
  sshd -T 2>&1 || true
  echo "## nft list table inet $NFT_TABLE"
  nft -s list table inet "$NFT_TABLE" 2>&1 || true
  echo "## wg showconf $WG_INTERFACE"
  wg_public_state "$WG_CONF"
  echo "## files"
  # Files that hold a key or a token are never printed, not even as a digest.
  if [ -f "$MANIFEST_FILE" ]; then
    grep -v '^#' "$MANIFEST_FILE" | awk 'NF == 7 && ($2 == "file" || $2 == "access") { print $4 }' |
      LC_ALL=C sort -u | while read -r f; do
      [ -f "$f" ] && sha256sum "$f"
    done
  fi
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

# Records a confirmed push: the digest of its bundle ($1, a file), its node.env and scripts
# (what the receiver's later commands run: `state`, `vault-install`; $2, a directory holding
# node.env and scripts/) and the live state now.
record_installed() {
  mkdir -p "$INSTALLED"
  chmod 700 "$INSTALLED"
  if [ -f "$1" ]; then
    cp "$1" "$INSTALLED/bundle.sha256.new"
    mv -f "$INSTALLED/bundle.sha256.new" "$INSTALLED/bundle.sha256"
  fi
  if [ -d "${2:-}/scripts" ]; then
    rm -rf "$INSTALLED/scripts.new"
    cp -R "$2/scripts" "$INSTALLED/scripts.new"
    cp "$2/node.env" "$INSTALLED/scripts.new/node.env"
    rm -rf "$INSTALLED/scripts"
    mv "$INSTALLED/scripts.new" "$INSTALLED/scripts"
  fi
  live_state >"$INSTALLED/live.new"
  mv -f "$INSTALLED/live.new" "$INSTALLED/live"
}

# Runs the unit actions the installed manifest names for the files listed in $1 ("all" after
# a rollback): enable a timer, restart a service whose configuration changed. Without an init
# system only the vault runs (the lab's stand-in), by vault.sh.
activate_roles() {
  [ -f "$MANIFEST_FILE" ] || return 0
  [ "$(init_system)" = systemd ] && systemctl daemon-reload
  grep -v '^#' "$MANIFEST_FILE" | awk 'NF == 7 && $7 != "-" { print $4, $7 }' |
    while read -r dest actions; do
      [ "$1" = all ] || grep -qxF "$dest" "$1" 2>/dev/null || continue
      echo "$actions" | tr ',' '\n'
    done | awk '!seen[$0]++' | while IFS=: read -r unit action; do
    unit_action "$unit" "$action"
  done
  return 0
}

unit_action() {
  if [ "$(init_system)" = openrc ] && [ "$2" = enable-boot ]; then
    rc-update add "$1" boot >/dev/null || log "rc-update add $1 boot failed"
    return 0
  fi
  if [ "$(init_system)" != systemd ]; then
    if [ "$1" = "${VAULT_UNIT:-}" ] && [ "$2" = restart ]; then
      sh "$(dirname "$0")/vault.sh" restart || log "could not restart the vault"
    fi
    return 0
  fi
  # Ollama's and k3s' own units come with their software, which may not be installed yet:
  # nothing to restart then.
  case $2 in try-*) [ "$(systemctl show -p LoadState --value "$1")" = loaded ] || return 0 ;; esac
  case $2 in
    enable | enable-boot) systemctl enable --quiet "$1" ;;
    enable-now) systemctl enable --now --quiet "$1" ;;
    start-no-block) systemctl start --no-block "$1" ;;
    restart | try-restart | reload-or-restart) systemctl "$2" "$1" ;;
    *) false ;;
  esac || log "systemctl $2 $1 failed"
}

# snapshot DIR LIST: copies each file named in LIST (a file, one path a line) that exists into
# DIR/files, and lists the others in DIR/absent: what a rollback puts back, or removes. On
# NixOS the whole of /etc/nixos is kept too: the running system is switched back from the
# system profile. The sudo rules are kept whole: a push may take grants away from the admin.
snapshot() {
  mkdir -p "$1/files" || return 1
  if [ -d /etc/nixos ]; then tar -C /etc -cf "$1/nixos.tar" nixos || return 1; fi
  if [ -f /etc/sudoers ] && [ -d /etc/sudoers.d ]; then
    tar -C /etc -cf "$1/sudoers.tar" sudoers sudoers.d || return 1
  fi
  : >"$1/sudo-groups" && : >"$1/absent" || return 1
  while read -r f; do
    if [ -e "$f" ]; then
      mkdir -p "$1/files$(dirname "$f")" && cp -p "$f" "$1/files$f" || return 1
    else
      echo "$f" >>"$1/absent" || return 1
    fi
  done <"$2"
}

# The files snapshot $1 covers: those it holds and those it found absent.
covered() {
  { (cd "$1/files" && find . -type f | sed 's|^\.||'); cat "$1/absent"; } | LC_ALL=C sort -u
}

# Adds to snapshot $2 what snapshot $1 covers and $2 does not: "original" keeps each file as
# it was before clawd-mesh first wrote it, whichever push that was.
snapshot_add() {
  covered "$2" >"$2.covered"
  covered "$1" | LC_ALL=C comm -23 - "$2.covered" | while read -r f; do
    if [ -e "$1/files$f" ]; then
      mkdir -p "$2/files$(dirname "$f")"
      cp -p "$1/files$f" "$2/files$f"
    else
      echo "$f" >>"$2/absent"
    fi
  done
  rm -f "$2.covered"
}

# restore DIR [keep-access]: puts back what snapshot DIR holds. keep-access leaves the receiver
# and the sudo rules as they are (a decommission is confirmed through them).
restore() {
  if [ -f "$1/nixos.tar" ]; then
    rm -rf /etc/nixos
    tar -C /etc -xf "$1/nixos.tar"
  fi
  [ "${2:-}" = keep-access ] || restore_access "$1"
  access_files >"$1.access"
  covered "$1" | while read -r f; do
    grep -qxF "$f" "$1.access" || restore_file "$1" "$f"
  done
  rm -f "$1.access"
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
  for f in $(access_files); do
    restore_file "$1" "$f"
  done
}

restore_file() {
  if [ -e "$1/files$2" ]; then
    mkdir -p "$(dirname "$2")"
    cp -p "$1/files$2" "$2"
  elif grep -qxF "$2" "$1/absent"; then
    rm -f "$2"
  fi
}

# group_member add|remove USER GROUP, with the tools the OS profile names.
group_member() {
  if [ "$ACCOUNT_TOOLS" = shadow ]; then
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
    grep -vxF "(root) NOPASSWD: $RECEIVER" || true
}

# A k3s server running with another join token than the installed file's (k3s.tokenGeneration
# raised; or a rollback putting the previous file back) is handed the file's token the way
# `k3s token rotate` does it (k3s's pkg/cli/token and pkg/server/handlers/token.go, from k3s
# v1.25.14, v1.26.9, v1.27.6 and v1.28.2 on; an older one answers 404 and the push rolls
# back): a PUT of {"newToken"} to its supervisor's /v1-k3s/token, as user "server", over TLS
# checked against its CA. k3s re-encrypts its bootstrap data with the new token and records
# it (K10<CA hash>::server:<password>), but checks credentials against the passwords it read
# at its start until it restarts: so the request signs in with the recorded token and, when
# that is refused, with the file's (handing a token back before the restart). The restart
# that follows is the token file's unit action; NixOS has none, so it comes here. Both tokens
# reach curl on stdin, never on a command line (-q: no curlrc may turn on tracing). Nothing
# to do when k3s never started (it takes the file as it is) or already runs with the file's.
k3s_take_token() {
  [ -n "${K3S_TOKEN_FILE:-}" ] && [ -s "$K3S_TOKEN_FILE" ] && [ -s "$K3S_SERVER_TOKEN" ] || return 0
  wanted=$(cat "$K3S_TOKEN_FILE")
  running=$(k3s_running_token)
  [ "$wanted" != "$running" ] || return 0
  for t in "$wanted" "$running"; do
    case $t in '' | *[!A-Za-z0-9]*)
      log "a k3s token that is not letters and digits cannot be handed over"
      return 1
      ;;
    esac
  done
  command -v curl >/dev/null 2>&1 || {
    log "curl is missing: k3s cannot be handed its new join token"
    return 1
  }
  code=$(k3s_token_request "$running" "$wanted")
  case $code in 401 | 403) code=$(k3s_token_request "$wanted" "$wanted") ;; esac
  if [ "$code" != 200 ]; then
    log "k3s did not take its new join token (HTTP ${code:-none} from /v1-k3s/token)"
    return 1
  fi
  # As k3s's own command does: the datastore takes a moment to show the new token.
  sleep 1
  [ "$(k3s_running_token)" = "$wanted" ] || {
    log "k3s answered, but does not record the new join token"
    return 1
  }
  log "k3s took the join token of $K3S_TOKEN_FILE"
  if [ "$NODE_OS" = nixos ]; then
    systemctl try-restart k3s.service || log "systemctl try-restart k3s.service failed"
  fi
  return 0
}

# k3s_token_request PASSWORD NEW: the rotation request signed in as server:PASSWORD; prints the
# HTTP status (000 when nothing answered).
k3s_token_request() {
  printf 'user = "server:%s"\ndata = "{\\"newToken\\":\\"%s\\"}"\n' "$1" "$2" |
    curl -q -s --noproxy '*' --max-time 30 --cacert "$K3S_SERVER_CA" -X PUT -K - \
      -o /dev/null -w '%{http_code}' "$K3S_SUPERVISOR_URL/v1-k3s/token" || true
}

# At boot, before k3s starts, after a rollback restored the previous token file: k3s's own
# record says which token its datastore is encrypted with (a push handed it over and was not
# confirmed before the restart), and k3s would not start on another. The file gets that one;
# the next up pushes the configured token again, which k3s then runs with as it is.
k3s_keep_token() {
  [ -n "${K3S_TOKEN_FILE:-}" ] && [ -s "$K3S_SERVER_TOKEN" ] && [ -f "$K3S_TOKEN_FILE" ] || return 0
  running=$(k3s_running_token)
  [ -n "$running" ] && [ "$running" != "$(cat "$K3S_TOKEN_FILE")" ] || return 0
  (umask 077 && printf '%s\n' "$running" >"$K3S_TOKEN_FILE.new") &&
    mv -f "$K3S_TOKEN_FILE.new" "$K3S_TOKEN_FILE" &&
    log "k3s's datastore holds the token of the push that was rolled back: k3s starts with it"
}

# The password part of the server token k3s records (K10<CA hash>::server:<password>).
k3s_running_token() {
  recorded=$(cat "$K3S_SERVER_TOKEN")
  recorded=${recorded##*::}
  echo "${recorded#server:}"
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

# The kernel settings file's values, now (a removed file's values stay until the next boot).
apply_sysctl() {
  [ ! -f "$SYSCTL_FILE" ] || sysctl -q -p "$SYSCTL_FILE" >/dev/null
}

# Brings the running node in line with the files under /etc (the new ones, or restored ones).
activate_generic() {
  apply_sysctl
  if [ -f "$NFT_FILE" ]; then
    nft -f "$NFT_FILE"
  else
    nft delete table inet "$NFT_TABLE" 2>/dev/null || true
  fi
  conf=$WG_CONF
  if [ ! -f "$conf" ]; then
    ip link del "$WG_INTERFACE" 2>/dev/null || true
  elif ip link show "$WG_INTERFACE" >/dev/null 2>&1; then
    # syncconf changes peers without dropping the sessions of the peers that stay.
    stripped=$(mktemp)
    wg-quick strip "$WG_INTERFACE" >"$stripped"
    wg syncconf "$WG_INTERFACE" "$stripped"
    rm -f "$stripped"
    wg set "$WG_INTERFACE" private-key "$WG_KEY"
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

# This machine leaves the mesh for good: it is being replaced (receive.sh retire), and Pulumi
# deletes it at the end of the up. The unit that brings the interface up at boot is stopped
# and, where the system lets it be, disabled; then the interface itself goes.
leave_mesh() {
  if [ "$(init_system)" = systemd ]; then
    systemctl disable --now "wg-quick@$WG_INTERFACE" 2>/dev/null || true
    systemctl stop "wireguard-$WG_INTERFACE" 2>/dev/null || true
  fi
  ip link del "$WG_INTERFACE" 2>/dev/null || true
  log "left the mesh: $WG_INTERFACE is down"
}

# The node's own WireGuard identity: address, listen port and key. When it is unchanged by a
# push, existing sessions survive it, and a live session proves the tunnel.
wg_identity() {
  {
    sed -n 's/^\(Address\|ListenPort\) = //p' "$WG_CONF" 2>/dev/null
    cat "$WG_KEY" 2>/dev/null
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
  NIX_PATH="nixpkgs=$2:nixos-config=$NIXOS_CONFIG" \
    nixos-rebuild "$1" -I "nixpkgs=$2" -I "nixos-config=$NIXOS_CONFIG"
}
