#!/usr/bin/env bash
# Builds the Debian 12 root the lab's systemd hosts boot under systemd-nspawn, from Debian's own
# packages, once: it lands in /var/cache/clawd-mesh/lab-image/<hash of the recipe>, so a
# changed package list builds a new root and an unchanged one costs nothing.
# Prints the root's path. Run it as root.
set -euo pipefail

cache=${CLAWD_MESH_IMAGE_CACHE:-/var/cache/clawd-mesh/lab-image}
suite=bookworm
# What a Debian node brings or the push installs: sshd, nft, wg-quick with wireguard-go (no
# kernel module here), sudo, the roles' curl and sqlite3, fail2ban, unattended-upgrades; and
# the host's own name resolving, as cloud images resolve it (sudo asks).
packages=(
  systemd systemd-sysv dbus libpam-systemd openssh-server nftables wireguard-tools wireguard-go
  sudo curl ca-certificates sqlite3 fail2ban python3-systemd unattended-upgrades iproute2
  iputils-ping procps util-linux libnss-myhostname
)
# Raise when the steps after mmdebstrap change: roots built before are then built again.
steps=2
key=$(printf '%s\n' "$suite" "$steps" "${packages[@]}" | sha256sum | cut -c1-16)
root="$cache/$key"

if [ ! -f "$root/.complete" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "lab-image: building needs root; run: sudo $0" >&2; exit 1; }
  # One build at a time: a second caller waits, then finds the root built.
  mkdir -p "$cache"
  exec 8>"$cache/.lock"
  flock 8
fi
if [ ! -f "$root/.complete" ]; then
  command -v mmdebstrap >/dev/null || { echo "lab-image: needs mmdebstrap" >&2; exit 1; }
  rm -rf "$root" "$root.tmp"
  started=$(date +%s)
  # Debian's own mirrors, as a Debian 12 cloud image has them.
  mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    --components=main "$suite" "$root.tmp" \
    "deb http://deb.debian.org/debian $suite main" \
    "deb http://deb.debian.org/debian $suite-updates main" \
    "deb http://deb.debian.org/debian-security $suite-security main" >&2
  # A host is handed over as its image boots: no host keys (each host gets its own), no
  # hostname (nspawn gives the machine's name), a machine id made at first boot.
  rm -f "$root.tmp"/etc/ssh/ssh_host_*
  : >"$root.tmp/etc/machine-id"
  rm -f "$root.tmp/etc/hostname"
  # fail2ban is here because a namespace cannot fetch it as the push would; until the push
  # installs its jail, the host is as one without fail2ban (Debian's own jail fails to start).
  systemctl --root="$root.tmp" disable --quiet fail2ban.service
  touch "$root.tmp/.complete"
  mv "$root.tmp" "$root"
  echo "lab-image: built $root in $(($(date +%s) - started)) s" >&2
  # Older roots: another recipe, never used again.
  find "$cache" -mindepth 1 -maxdepth 1 -not -name "$key" -not -name .lock -exec rm -rf {} +
fi
echo "$root"
