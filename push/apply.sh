#!/bin/sh
# apply.sh DIR: validate the bundle in DIR/bundle with the tools that will read it, then
# install it (with the secrets in DIR/secrets) and switch the node to it.
set -eu
dir=$1
bundle=$dir/bundle
secrets=$dir/secrets
here=$(dirname "$0")
# shellcheck source=push/lib.sh
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$bundle/clawd-mesh.env"

validate_generic() {
  hostkey=/etc/ssh/ssh_host_ed25519_key
  [ -f "$secrets/ssh_host_ed25519_key" ] && hostkey=$secrets/ssh_host_ed25519_key
  mkdir -p /run/sshd
  sshd -t -f "$bundle/sshd_config" -h "$hostkey" || fail "sshd -t rejected the new sshd_config"
  nft -c -f "$bundle/nftables.conf" || fail "nft -c rejected the new nftables.conf"
  mkdir -p "$dir/wg"
  cp "$bundle/wg0.conf" "$dir/wg/$WG_INTERFACE.conf"
  wg-quick strip "$dir/wg/$WG_INTERFACE.conf" >"$dir/wg/stripped" 2>/dev/null ||
    fail "wg-quick could not read the new wg0.conf"
}

install_secrets() {
  [ -f "$secrets/wg0.key" ] && put "$secrets/wg0.key" "/etc/wireguard/$WG_INTERFACE.key" 600
  [ -f "$secrets/ssh_host_ed25519_key" ] &&
    put "$secrets/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key 600
  for name in k3s-token clavitor.env; do
    [ -f "$secrets/$name" ] && put "$secrets/$name" "/etc/clawd-mesh/$name" 600
  done
  chmod 700 /etc/clawd-mesh 2>/dev/null || true
}

ensure_admin() {
  if ! id "$ADMIN_USER" >/dev/null 2>&1; then
    if command -v useradd >/dev/null 2>&1; then
      useradd --create-home --shell /bin/sh "$ADMIN_USER"
    else
      adduser -D -s /bin/sh "$ADMIN_USER"
    fi
    # No password: the account can only be reached with a key.
    passwd -l "$ADMIN_USER" >/dev/null 2>&1 || true
  fi
  put "$bundle/authorized_keys" "/etc/ssh/authorized_keys.d/$ADMIN_USER" 644
  put "$here/receive.sh" /usr/local/sbin/clawd-mesh-receive 755
  if [ -d /etc/sudoers.d ]; then
    printf '%s ALL=(root) NOPASSWD: /usr/local/sbin/clawd-mesh-receive\n' "$ADMIN_USER" \
      >"$dir/sudoers"
    put "$dir/sudoers" /etc/sudoers.d/clawd-mesh 440
  fi
}

switch_generic() {
  init=$(init_system)
  put "$bundle/sysctl.conf" /etc/sysctl.d/60-clawd-mesh.conf 644
  sysctl -q -p /etc/sysctl.d/60-clawd-mesh.conf >/dev/null
  put "$bundle/nftables.conf" "$(nft_file)" 600
  nft -f "$(nft_file)"
  put "$bundle/wg0.conf" "/etc/wireguard/$WG_INTERFACE.conf" 600
  if ip link show "$WG_INTERFACE" >/dev/null 2>&1; then
    # syncconf changes peers without dropping the tunnels that stay.
    wg syncconf "$WG_INTERFACE" "$dir/wg/stripped"
    wg set "$WG_INTERFACE" private-key "/etc/wireguard/$WG_INTERFACE.key"
    ip address replace "$(sed -n 's/^Address = //p' "$bundle/wg0.conf")" dev "$WG_INTERFACE"
  else
    wg-quick up "$WG_INTERFACE"
  fi
  put "$bundle/sshd_config" /etc/ssh/sshd_config 644
  case $init in
    systemd)
      systemctl enable --quiet nftables "wg-quick@$WG_INTERFACE" 2>/dev/null || true
      # Ubuntu's socket activation would ignore ListenAddress; sshd listens by itself.
      if systemctl is-enabled --quiet ssh.socket 2>/dev/null; then
        systemctl disable --now --quiet ssh.socket
        systemctl enable --now --quiet ssh.service
      fi
      systemctl reload ssh 2>/dev/null || systemctl reload sshd
      ;;
    openrc)
      rc-update add nftables default >/dev/null 2>&1 || true
      printf '#!/bin/sh\nwg-quick up %s\n' "$WG_INTERFACE" >"$dir/wg.start"
      put "$dir/wg.start" /etc/local.d/clawd-mesh-wireguard.start 755
      rc-update add local default >/dev/null 2>&1 || true
      rc-service sshd reload
      ;;
    none)
      kill -HUP "$(cat /run/sshd.pid)"
      ;;
  esac
}

apply_nixos() {
  target=/etc/nixos
  install -d -m 755 "$target/clawd-mesh"
  for f in configuration.nix node.json; do put "$bundle/$f" "$target/$f" 644; done
  for f in "$bundle"/clawd-mesh/*; do put "$f" "$target/clawd-mesh/$(basename "$f")" 644; done
  nixos-rebuild dry-build >/dev/null 2>&1 || fail "nixos-rebuild dry-build rejected the configuration"
  nixos-rebuild switch
}

case $NODE_OS in
  nixos)
    install_secrets
    apply_nixos
    ;;
  *)
    validate_generic
    install_secrets
    ensure_admin
    switch_generic
    ;;
esac
log "switched to the new bundle"
