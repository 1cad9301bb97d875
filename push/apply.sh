#!/bin/sh
# apply.sh DIR [--bootstrap | --decommission] [--window SECONDS] [--sha256 DIGEST]
# Validates the bundle in DIR with the tools that will read it, snapshots the node's current
# configuration, arms an automatic rollback, and only then switches the node over. Prints
# "clawd-mesh: armed TOKEN ACTIVATED_AT"; `confirm TOKEN`, over a fresh connection, keeps it.
# --bootstrap (first contact, over the public address): public SSH stays open and sshd keeps
# listening everywhere until a later push, proven over the mesh, closes them.
# --decommission (a host leaving the mesh): puts back what first contact found, detached from
# this session (which runs over the mesh being taken down); confirmed the way the owner logs in.
set -eu
dir=$1
shift
mode=normal
window=120
while [ $# -gt 0 ]; do
  case $1 in
    --bootstrap) mode=bootstrap ;;
    --decommission) mode=decommission ;;
    --window)
      window=$2
      shift
      ;;
    # The archive's digest, checked by the receiver before it unpacked anything.
    --sha256) shift ;;
    *) echo "apply: unknown option $1" >&2 && exit 2 ;;
  esac
  shift
done
bundle=$dir/bundle
secrets=$dir/secrets
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$bundle/clawd-mesh.env"

take_lock
# A push cut short before it was armed left at most pending.new: nothing was switched.
rm -rf "$STATE/pending.new"
if [ -d "$PENDING" ]; then
  pending_token=$(cat "$PENDING/token")
  pending_deadline=$(cat "$PENDING/deadline")
  if [ "$(date +%s)" -le $((pending_deadline + 5)) ]; then
    fail "push $pending_token is still waiting for confirmation; it is kept or rolled back by $pending_deadline, try again after"
  fi
  # Its deadline is past and nothing rolled it back: its timer did not survive (a reboot).
  log "push $pending_token was neither kept nor rolled back by its deadline: rolling it back first"
  "$PENDING/scripts/rollback.sh" "$pending_token" now 9>&- ||
    fail "the stale push $pending_token could not be rolled back (see $STATE/rolled-back); nothing else was changed"
fi

# The programs this bundle needs, installed when the host lacks them (a fresh cloud image):
# before anything is validated or armed, and never again once they are there.
ensure_packages() {
  needed="nftables wireguard-tools sudo"
  [ -d "$bundle/libexec" ] && needed="$needed sqlite3"
  grep -q '^VAULT_BINARY=' "$bundle/clawd-mesh.env" && needed="$needed curl"
  # The jail reads the journal (backend = systemd) through python3-systemd, only a Recommends.
  [ -f "$bundle/fail2ban/clawd-mesh-sshd.local" ] && needed="$needed fail2ban python3-systemd"
  [ -d "$bundle/apt" ] && needed="$needed unattended-upgrades"
  if command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for p in $needed; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    log "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # one word per package
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
      fail "could not install$missing; nothing was changed"
    fi
  elif command -v apk >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    apk add --quiet $needed >/dev/null || fail "could not install $needed; nothing was changed"
  fi
}

# First contact installs the bundle's bootstrap variants (rendered beside the others): sshd
# listens everywhere and SSH comes in from the operator's networks until the mesh is proven.
stage=$bundle
[ "$mode" = bootstrap ] && [ -d "$bundle/bootstrap" ] && stage=$bundle/bootstrap

validate() {
  hostkey=/etc/ssh/ssh_host_ed25519_key
  [ -f "$secrets/ssh_host_ed25519_key" ] && hostkey=$secrets/ssh_host_ed25519_key
  mkdir -p /run/sshd
  sshd -t -f "$stage/sshd_config" -h "$hostkey" || fail "sshd -t rejected the new sshd_config; nothing was changed"
  nft -c -f "$stage/nftables.conf" || fail "nft -c rejected the new nftables.conf; nothing was changed"
  mkdir -p "$dir/wg"
  cp "$bundle/wg0.conf" "$dir/wg/$WG_INTERFACE.conf"
  wg-quick strip "$dir/wg/$WG_INTERFACE.conf" >/dev/null 2>&1 ||
    fail "wg-quick could not read the new wg0.conf; nothing was changed"
}

install_files() {
  [ -f "$secrets/wg0.key" ] && put "$secrets/wg0.key" "/etc/wireguard/$WG_INTERFACE.key" 600
  [ -f "$secrets/ssh_host_ed25519_key" ] &&
    put "$secrets/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key 600
  for name in k3s-token clavitor.env; do
    [ -f "$secrets/$name" ] && put "$secrets/$name" "/etc/clawd-mesh/$name" 600
  done
  [ -d /etc/clawd-mesh ] && chmod 700 /etc/clawd-mesh
  if ! id "$ADMIN_USER" >/dev/null 2>&1; then
    if command -v useradd >/dev/null 2>&1; then
      useradd --create-home --shell /bin/sh "$ADMIN_USER"
    else
      adduser -D -s /bin/sh "$ADMIN_USER"
    fi
    # No password: the account is reached with a key or not at all.
    passwd -l "$ADMIN_USER" >/dev/null 2>&1 || true
  fi
  # sshd reads a user's keys as that user: the directory must be world-readable.
  install -d -m 755 /etc/ssh/authorized_keys.d
  put "$bundle/authorized_keys" "/etc/ssh/authorized_keys.d/$ADMIN_USER" 644
  put "$here/receive.sh" /usr/local/sbin/clawd-mesh-receive 755
  if [ -d /etc/sudoers.d ]; then
    printf '%s ALL=(root) NOPASSWD: /usr/local/sbin/clawd-mesh-receive\n' "$ADMIN_USER" >"$dir/sudoers"
    put "$dir/sudoers" /etc/sudoers.d/clawd-mesh 440
    take_over_sudo
  fi
  put "$bundle/sysctl.conf" /etc/sysctl.d/60-clawd-mesh.conf 644
  put "$stage/nftables.conf" "$(nft_file)" 600
  put "$bundle/wg0.conf" "/etc/wireguard/$WG_INTERFACE.conf" 600
  put "$stage/sshd_config" /etc/ssh/sshd_config 644
  install_roles
  case $(init_system) in
    systemd)
      systemctl enable --quiet nftables "wg-quick@$WG_INTERFACE" 2>/dev/null || true
      # Ubuntu's socket activation ignores ListenAddress: sshd listens by itself instead.
      if systemctl is-enabled --quiet ssh.socket 2>/dev/null; then
        systemctl disable --now --quiet ssh.socket
        systemctl enable --now --quiet ssh.service
      fi
      ;;
    openrc)
      rc-update add nftables default >/dev/null 2>&1 || true
      printf '#!/bin/sh\nwg-quick up %s\n' "$WG_INTERFACE" >"$dir/wg.start"
      put "$dir/wg.start" /etc/local.d/clawd-mesh-wireguard.start 755
      rc-update add local default >/dev/null 2>&1 || true
      ;;
  esac
}

# The receiver is the admin account's only way to root. An existing host's owner often gave
# the account more: a rule naming it (commented out here, in place) or a group that sudo
# rules name (the account leaves it). The snapshot keeps both for a rollback; what cannot be
# taken away this way (an alias, an include elsewhere) stops the push after the switch.
take_over_sudo() {
  for f in /etc/sudoers /etc/sudoers.d/*; do
    [ -f "$f" ] || continue
    [ "$f" = /etc/sudoers.d/clawd-mesh ] && continue
    grep -Eq "^[[:space:]]*${ADMIN_USER}[[:space:]]" "$f" || continue
    sed -E "s/^([[:space:]]*${ADMIN_USER}[[:space:]].*)$/# taken away by clawd-mesh: \1/" "$f" >"$dir/sudoers.edit"
    if ! visudo -cqf "$dir/sudoers.edit" >/dev/null 2>&1; then
      "$PENDING/scripts/rollback.sh" "$token" now
      fail "sudo would not read $f without $ADMIN_USER's rule; remove that rule on the node by hand; the node keeps the previous configuration"
    fi
    put "$dir/sudoers.edit" "$f" "$(stat -c %a "$f")"
  done
  groups=$(sed -n 's/^[[:space:]]*%\([a-z_][a-z0-9_-]*\).*/\1/p' /etc/sudoers /etc/sudoers.d/* 2>/dev/null | sort -u)
  for group in $groups; do
    id -nG "$ADMIN_USER" | tr ' ' '\n' | grep -qx "$group" || continue
    group_member remove "$ADMIN_USER" "$group"
    echo "$group" >>"$PENDING/previous/sudo-groups"
  done
}

# The role files (see core/render/roles.ts), and the service user for the vault.
install_roles() {
  put "$bundle/clawd-mesh.env" /etc/clawd-mesh/node.env 600
  chmod 700 /etc/clawd-mesh
  install -d -m 755 "$LIBEXEC"
  put "$here/lib.sh" "$LIBEXEC/lib.sh" 644
  put "$here/vault.sh" "$LIBEXEC/vault.sh" 755
  for f in "$bundle"/libexec/*; do
    [ -f "$f" ] || continue
    case $f in *.txt) mode=644 ;; *) mode=755 ;; esac
    put "$f" "$LIBEXEC/$(basename "$f")" "$mode"
  done
  if [ -d "$bundle/systemd" ]; then
    (cd "$bundle/systemd" && find . -type f) | while read -r f; do
      put "$bundle/systemd/$f" "/etc/systemd/system/${f#./}" 644
    done
  fi
  [ -f "$bundle/k3s/config.yaml" ] && put "$bundle/k3s/config.yaml" /etc/rancher/k3s/config.yaml 600
  if [ -f "$bundle/fail2ban/clawd-mesh-sshd.local" ]; then
    put "$bundle/fail2ban/clawd-mesh-sshd.local" /etc/fail2ban/jail.d/clawd-mesh-sshd.local 644
  fi
  if [ -d "$bundle/apt" ] && [ -d /etc/apt/apt.conf.d ]; then
    for f in "$bundle"/apt/*; do put "$f" "/etc/apt/apt.conf.d/$(basename "$f")" 644; done
  fi
  if [ -n "${VAULT_USER:-}" ]; then
    # A system account with no login shell owns the vault and nothing else.
    id "$VAULT_USER" >/dev/null 2>&1 ||
      useradd --system --home-dir "$VAULT_DATA_DIR" --shell /usr/sbin/nologin "$VAULT_USER"
    install -d -m 700 -o "$VAULT_USER" -g "$VAULT_USER" "$VAULT_DATA_DIR"
    install -d -m 755 "$(dirname "$VAULT_BINARY")"
  fi
}

install_nixos() {
  [ -f "$secrets/wg0.key" ] && put "$secrets/wg0.key" "/etc/wireguard/$WG_INTERFACE.key" 600
  for name in k3s-token clavitor.env; do
    [ -f "$secrets/$name" ] && put "$secrets/$name" "/etc/clawd-mesh/$name" 600
  done
  # What the receiver's later commands (vault-install) need, as on any other host.
  put "$bundle/clawd-mesh.env" /etc/clawd-mesh/node.env 600
  install -d -m 755 "$LIBEXEC"
  put "$here/lib.sh" "$LIBEXEC/lib.sh" 644
  put "$here/vault.sh" "$LIBEXEC/vault.sh" 755
  install -d -m 755 /etc/nixos/clawd-mesh
  for f in configuration.nix node.json; do put "$bundle/$f" "/etc/nixos/$f" 644; done
  for f in "$bundle"/clawd-mesh/*; do put "$f" "/etc/nixos/clawd-mesh/$(basename "$f")" 644; done
  if [ "$mode" = bootstrap ]; then
    put "$bundle/clawd-mesh/bootstrap.nix" /etc/nixos/bootstrap.nix 644
  else
    rm -f /etc/nixos/bootstrap.nix
  fi
}

# Every file the push would install, as "source destination" lines.
planned_files() {
  echo "$bundle/authorized_keys /etc/ssh/authorized_keys.d/$ADMIN_USER"
  echo "$bundle/clawd-mesh.env /etc/clawd-mesh/node.env"
  echo "$here/lib.sh $LIBEXEC/lib.sh"
  echo "$here/vault.sh $LIBEXEC/vault.sh"
  for f in "$bundle"/libexec/*; do [ -f "$f" ] && echo "$f $LIBEXEC/$(basename "$f")"; done
  if [ -d "$bundle/systemd" ]; then
    (cd "$bundle/systemd" && find . -type f) | while read -r f; do
      echo "$bundle/systemd/$f /etc/systemd/system/${f#./}"
    done
  fi
  [ -f "$bundle/k3s/config.yaml" ] && echo "$bundle/k3s/config.yaml /etc/rancher/k3s/config.yaml"
  [ -f "$bundle/fail2ban/clawd-mesh-sshd.local" ] &&
    echo "$bundle/fail2ban/clawd-mesh-sshd.local /etc/fail2ban/jail.d/clawd-mesh-sshd.local"
  if [ -d /etc/apt/apt.conf.d ]; then
    for f in "$bundle"/apt/*; do [ -f "$f" ] && echo "$f /etc/apt/apt.conf.d/$(basename "$f")"; done
  fi
  echo "$here/receive.sh /usr/local/sbin/clawd-mesh-receive"
  echo "$bundle/sysctl.conf /etc/sysctl.d/60-clawd-mesh.conf"
  echo "$stage/nftables.conf $(nft_file)"
  echo "$bundle/wg0.conf /etc/wireguard/$WG_INTERFACE.conf"
  echo "$stage/sshd_config /etc/ssh/sshd_config"
  for f in "$secrets"/*; do
    [ -f "$f" ] || continue
    case $(basename "$f") in
      wg0.key) echo "$f /etc/wireguard/$WG_INTERFACE.key" ;;
      ssh_host_ed25519_key) echo "$f /etc/ssh/ssh_host_ed25519_key" ;;
      *) echo "$f /etc/clawd-mesh/$(basename "$f")" ;;
    esac
  done
}

# A push of what the node already runs changes nothing and restarts nothing.
unchanged() {
  [ "$mode" = normal ] || return 1
  [ ! -e /etc/nixos/bootstrap.nix ] || return 1
  ip link show "$WG_INTERFACE" >/dev/null 2>&1 || return 1
  nft list table inet clawd_mesh >/dev/null 2>&1 || return 1
  [ -z "$(sudo_beyond_receiver)" ] || return 1
  planned_files | while read -r source target; do
    cmp -s "$source" "$target" || exit 1
  done || return 1
  # Files alone are not the node: a rule added with nft, a peer set with wg, or a node never
  # recorded (pushed before drift checks) is switched again to what the bundle says.
  [ -f "$INSTALLED/live" ] && live_state | cmp -s - "$INSTALLED/live"
}

# The rollback is armed before anything changes, and runs without this session.
# Written aside and renamed into place, so a push cut short while arming (a full disk, a lost
# session) never leaves a pending push without its token, deadline or saved files.
arm() {
  next=$STATE/pending.new
  mkdir -p "$next"
  snapshot "$next/previous"
  cp -R "$here" "$next/scripts"
  cp "$bundle/clawd-mesh.env" "$next/clawd-mesh.env"
  # The digest the operator computed for this bundle (bundleHash): recorded once confirmed.
  [ -f "$dir/bundle.sha256" ] && cp "$dir/bundle.sha256" "$next/bundle.sha256"
  token=$(date +%s)-$$
  now=$(date +%s)
  echo "$token" >"$next/token"
  echo "$mode" >"$next/mode"
  echo "$window" >"$next/window"
  echo $((now + window)) >"$next/deadline"
  wg_identity >"$next/wg-before"
  answering_roles >"$next/roles-before"
  if [ "$NODE_OS" = nixos ]; then
    echo nixos >"$next/kind"
  else
    echo generic >"$next/kind"
  fi
  mv "$next" "$PENDING"
  if [ "$(init_system)" = systemd ]; then
    # A transient timer fires up to a minute late unless told otherwise (AccuracySec); 1s
    # still let it fire 1.04 s late on a booted Debian 12: the window is the window.
    systemd-run --quiet --unit "clawd-mesh-rollback-$token" --on-active="${window}s" \
      --timer-property=AccuracySec=100ms "$PENDING/scripts/rollback.sh" "$token"
  else
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    setsid sh -c 'sleep "$1"; exec "$2" "$3"' rollback "$window" "$PENDING/scripts/rollback.sh" "$token" \
      </dev/null >>"$STATE/rollback.log" 2>&1 9>&- &
    echo $! >"$PENDING/sleeper"
  fi
}

if [ "$mode" = decommission ]; then
  [ -d "$STATE/original" ] ||
    fail "there is no record of what first contact found on this node (its first contact came before clawd-mesh kept one): take it out of the mesh by hand; nothing was changed"
  arm
  date +%s >"$PENDING/activated"
  # Answer first: the switch takes down the tunnel this session may be running over.
  setsid sh "$PENDING/scripts/decommission.sh" "$token" </dev/null >>"$STATE/rollback.log" 2>&1 9>&- &
  echo "clawd-mesh: armed $token $(cat "$PENDING/activated")"
  exit 0
fi

if [ "$NODE_OS" = nixos ]; then
  # Before anything is armed: a download that fails or a tree whose hash differs changes nothing.
  nixpkgs=$(fetch_nixpkgs "$dir/nixpkgs.log") || fail "could not fetch nixpkgs $NIXPKGS_BRANCH $NIXPKGS_REV with sha256 $NIXPKGS_SHA256 ($(tail -n 1 "$dir/nixpkgs.log")); nothing was changed"
  arm
  echo "$nixpkgs" >"$PENDING/nixpkgs"
  install_nixos
  nixos_rebuild dry-build "$nixpkgs" >/dev/null 2>&1 || {
    "$PENDING/scripts/rollback.sh" "$token" now
    fail "nixos-rebuild dry-build rejected the configuration; the node keeps the previous one"
  }
  date +%s >"$PENDING/activated"
  # test: switch the running system, not the boot entry; confirm makes the boot entry.
  nixos_rebuild test "$nixpkgs" >/dev/null 9>&-
else
  ensure_packages 9>&-
  validate
  if unchanged; then
    # The same files and live state under a new digest (a script that is not installed changed).
    record_installed "$dir/bundle.sha256"
    echo "clawd-mesh: unchanged"
    exit 0
  fi
  arm
  CHANGED=$dir/changed
  : >"$CHANGED"
  install_files
  extra=$(sudo_beyond_receiver)
  if [ -n "$extra" ]; then
    "$PENDING/scripts/rollback.sh" "$token" now
    fail "sudo still lets $ADMIN_USER run more than the receiver ($(echo "$extra" | head -n 1)); remove that grant on the node by hand; the node keeps the previous configuration"
  fi
  date +%s >"$PENDING/activated"
  activate_generic 9>&-
  activate_roles "$CHANGED" 9>&-
fi
wg_identity >"$PENDING/wg-after"
echo "clawd-mesh: armed $token $(cat "$PENDING/activated")"
