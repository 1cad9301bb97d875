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
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$bundle/node.env"
manifest=$bundle/manifest
[ -f "$manifest" ] || fail "the push carries no manifest (pushed by an older clawd-mesh?); push with this version; nothing was changed"
# The rows this push installs, and every file it or the push before it placed: the snapshot
# covers them all, and what the previous manifest placed and this one does not is removed.
rows=$dir/rows
manifest_rows "$manifest" "$mode" >"$rows"
destinations "$manifest" "$MANIFEST_FILE" >"$dir/covered"
awk '$2 != "dir" { print $4 }' "$rows" | LC_ALL=C sort -u | LC_ALL=C comm -13 - "$dir/covered" >"$dir/retired"

take_lock
# A push cut short before it was armed left at most pending.new: nothing was switched.
rm -rf "$STATE/pending.new"
if [ -d "$PENDING" ]; then
  pending_token=$(cat "$PENDING/token")
  pending_deadline=$(cat "$PENDING/deadline")
  if [ "$(date +%s)" -le $((pending_deadline + 5)) ]; then
    fail "push $pending_token is still waiting for confirmation; it is kept or rolled back by $pending_deadline, try again after"
  fi
  # Its deadline is past and nothing rolled it back: its timer died with a reboot that the
  # boot rollback did not see (a host without it yet, or a boot it failed in).
  log "push $pending_token was neither kept nor rolled back by its deadline: rolling it back first"
  "$PENDING/scripts/rollback.sh" "$pending_token" now 9>&- ||
    fail "the stale push $pending_token could not be rolled back (see $STATE/rolled-back); nothing else was changed"
fi
# A follow still running here (of a rotating peer, follow.sh) ends before anything is saved or
# compared: this push's configuration names the peer's new key and takes over from the
# follow, which first leaves the key that answered last in place. The follows ahead of a
# rotated hub or entry node are noted first: a rollback of this push puts back a
# configuration naming the hub's previous key, and starts them again (rollback.sh), so the
# node finds the hub on its new one and the next up reaches it.
ahead_follows >"$dir/ahead"
stop_follows all

# The programs this bundle needs (PACKAGES, from node.env), installed when the host lacks
# them (a fresh cloud image): before anything is validated or armed, and never again once
# they are there.
ensure_packages() {
  needed=$PACKAGES
  if [ "$PACKAGE_MANAGER" = apt ]; then
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
  else
    # shellcheck disable=SC2086
    apk add --quiet $needed >/dev/null || fail "could not install $needed; nothing was changed"
  fi
}

# Each file passes the check its manifest row names (the tool that will read it) before
# anything is armed; first contact checks its own variants (public SSH stays open).
validate() {
  hostkey=$(awk '$6 == "hostkey" { print $3 }' "$rows")
  while read -r _ kind source destination _ check _ <&3; do
    [ "$kind" = dir ] || [ -f "$dir/$source" ] ||
      fail "the push carries no $source (for $destination); nothing was changed"
    case $check in
      sshd)
        mkdir -p /run/sshd
        sshd -t -f "$dir/$source" ${hostkey:+-h "$dir/$hostkey"} ||
          fail "sshd -t rejected the new $destination; nothing was changed"
        ;;
      nft) nft -c -f "$dir/$source" || fail "nft -c rejected the new $destination; nothing was changed" ;;
      wg)
        # wg-quick reads a configuration by its interface's name.
        mkdir -p "$dir/wg"
        cp "$dir/$source" "$dir/wg/$WG_INTERFACE.conf"
        wg-quick strip "$dir/wg/$WG_INTERFACE.conf" >/dev/null 2>&1 ||
          fail "wg-quick could not read the new $destination; nothing was changed"
        ;;
      sudoers)
        visudo -cqf "$dir/$source" >/dev/null 2>&1 ||
          fail "visudo rejected the new $destination; nothing was changed"
        ;;
    esac
  done 3<"$rows"
}

# Installs the manifest's rows, then removes what the previous push placed and this one does
# not (a role taken away, first contact's bootstrap.nix). Every target is in the snapshot.
place_files() {
  while read -r _ kind source destination fmode _ _ <&3; do
    if [ "$kind" = dir ]; then
      mkdir -p "$destination"
      chmod "$fmode" "$destination"
    else
      put "$dir/$source" "$destination" "$fmode"
    fi
  done 3<"$rows"
  while read -r gone; do
    [ -e "$gone" ] || continue
    [ -n "${CHANGED:-}" ] && echo "$gone" >>"$CHANGED"
    rm -f "$gone"
  done <"$dir/retired"
}

# What is not a file: the admin account, the services that start the mesh at boot.
install_files() {
  place_files
  if ! id "$ADMIN_USER" >/dev/null 2>&1; then
    if [ "$ACCOUNT_TOOLS" = shadow ]; then
      useradd --create-home --shell /bin/sh "$ADMIN_USER"
    else
      adduser -D -s /bin/sh "$ADMIN_USER"
    fi
    # No password: the account is reached with a key or not at all.
    passwd -l "$ADMIN_USER" >/dev/null 2>&1 || true
  fi
  take_over_sudo
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
    grep -qxF "$f" "$dir/covered" && continue
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

# The vault's service user and its folders (the role's files are in the manifest).
install_roles() {
  if [ -n "${VAULT_USER:-}" ]; then
    # A system account with no login shell owns the vault and nothing else.
    # (The vault runs only where the init is systemd: checkNodes.ts. Those OSes have useradd.)
    id "$VAULT_USER" >/dev/null 2>&1 ||
      useradd --system --home-dir "$VAULT_DATA_DIR" --shell "$NOLOGIN_SHELL" "$VAULT_USER"
    install -d -m 700 -o "$VAULT_USER" -g "$VAULT_USER" "$VAULT_DATA_DIR"
    install -d -m 755 "$(dirname "$VAULT_BINARY")"
  fi
}

# A push of what the node already runs changes nothing and restarts nothing.
unchanged() {
  [ "$mode" = normal ] || return 1
  ip link show "$WG_INTERFACE" >/dev/null 2>&1 || return 1
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 || return 1
  [ -z "$(sudo_beyond_receiver)" ] || return 1
  while read -r _ kind source destination _ _ _ <&3; do
    if [ "$kind" = dir ]; then
      [ -d "$destination" ] || return 1
    else
      cmp -s "$dir/$source" "$destination" || return 1
    fi
  done 3<"$rows"
  while read -r gone; do
    [ ! -e "$gone" ] || return 1
  done <"$dir/retired"
  # Files alone are not the node: a rule added with nft, a peer set with wg, or a node never
  # recorded (pushed before drift checks) is switched again to what the bundle says.
  [ -f "$INSTALLED/live" ] && live_state | cmp -s - "$INSTALLED/live"
}

# What a rollback needs, in $1: the current files, the scripts, this push's token and deadline.
save_pending() {
  mkdir -p "$1" &&
    snapshot "$1/previous" "$dir/covered" &&
    cp -R "$here" "$1/scripts" &&
    cp "$bundle/node.env" "$1/node.env" &&
    cp "$manifest" "$1/manifest" &&
    cp "$dir/ahead" "$1/ahead" || return 1
  if [ -f "$MANIFEST_FILE" ]; then cp "$MANIFEST_FILE" "$1/manifest.before" || return 1; fi
  # The digest the operator computed for this bundle (bundleHash): recorded once confirmed.
  if [ -f "$dir/bundle.sha256" ]; then cp "$dir/bundle.sha256" "$1/bundle.sha256" || return 1; fi
  kind=generic
  [ "$NODE_OS" = nixos ] && kind=nixos
  echo "$token" >"$1/token" &&
    echo "$mode" >"$1/mode" &&
    echo "$window" >"$1/window" &&
    echo $(($(date +%s) + window)) >"$1/deadline" &&
    wg_identity >"$1/wg-before" &&
    { wg show "$WG_INTERFACE" peers >"$1/peers-before" 2>/dev/null || :; } &&
    save_endpoints &&
    answering_roles >"$1/roles-before" &&
    echo "$kind" >"$1/kind"
}

# Where each peer was last seen, before a push can drop it: a peer whose key is rotated in the
# same up is found there again while it still holds its old key (follow.sh), even behind NAT,
# where only its own packets had told this node its address.
save_endpoints() {
  wg show "$WG_INTERFACE" endpoints >"$STATE/endpoints.new" 2>/dev/null || :
  mv -f "$STATE/endpoints.new" "$STATE/endpoints"
}

# The rollback is armed before anything changes, and runs without this session.
# Written aside and renamed into place, so a push cut short while arming (a full disk, a lost
# session) never leaves a pending push without its token, deadline or saved files.
arm() {
  next=$STATE/pending.new
  token=$(date +%s)-$$
  if ! save_pending "$next"; then
    rm -rf "$next" 2>/dev/null || true
    fail "could not save the node's current files in $STATE ($(df -Pk "$STATE" | awk 'NR == 2 { print $4 }') KiB free: is its disk full?); nothing was changed"
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

# The moment of the switch, in whole seconds as WireGuard counts handshakes, and each peer's
# last handshake just before it: confirm.sh takes a handshake in that very second as proof
# only when it is not one of these (a peer that answers at once, as one following a rotated
# key does, completes its handshake within the second of the switch).
activated() {
  date +%s >"$PENDING/activated"
  wg show "$WG_INTERFACE" latest-handshakes >"$PENDING/handshakes-before" 2>/dev/null || :
}

# Rotated peers this push keeps on their previous keys (core/plan/rotation.ts, keptKeys): from
# this switch the node names their new keys, and its confirmation comes through them before
# their own pushes switch them. Each still running on its previous key before the switch is
# followed from it (follow.sh, behind) until it answers on its new key. The scripts are copied
# aside: this push's own directory goes when the receiver returns.
keep_rotated() {
  [ -f "$dir/keeps" ] || return 0
  keep=$STATE/keep
  rm -rf "$keep" && cp -R "$here" "$keep" && cp "$bundle/node.env" "$keep/node.env" || return 1
  while read -r address new previous seconds; do
    grep -qx "$previous" "$PENDING/peers-before" || continue
    wg show "$WG_INTERFACE" peers | grep -qx "$new" || continue
    setsid sh "$keep/follow.sh" "$address" "$seconds" "$new" "$previous" behind \
      </dev/null >>"$STATE/follow.log" 2>&1 9>&- &
    log "keeping $address on its previous WireGuard key until it answers on its new one"
  done <"$dir/keeps"
}

# A rotated k3s join token goes to the running k3s server before anything restarts it; a
# rollback hands the previous one back (rollback.sh).
take_k3s_token() {
  k3s_take_token 9>&- && return 0
  "$PENDING/scripts/rollback.sh" "$token" now
  fail "the k3s server did not take its new join token (see the log above); the node keeps the previous configuration and token"
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
  place_files
  nixos_rebuild dry-build "$nixpkgs" >/dev/null 2>&1 || {
    "$PENDING/scripts/rollback.sh" "$token" now
    fail "nixos-rebuild dry-build rejected the configuration; the node keeps the previous one"
  }
  take_k3s_token
  activated
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
  take_k3s_token
  activated
  activate_generic 9>&-
  activate_roles "$CHANGED" 9>&-
fi
keep_rotated || log "could not keep the rotated peers on their previous keys; they answer once pushed"
wg_identity >"$PENDING/wg-after"
echo "clawd-mesh: armed $token $(cat "$PENDING/activated")"
