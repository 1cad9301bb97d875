# What every node has regardless of role: a host name, the state version, and a Nix store
# that does not fill the 10 GB disks of seed 001 (two generations kept).
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
in
{
  networking.hostName = node.name;
  system.stateVersion = node.nixos.stateVersion;

  nix.gc = {
    automatic = true;
    dates = "weekly";
  };
  # nix-collect-garbage has no "keep N"; delete all but the newest two system generations
  # right before it runs, so the collector can free everything else.
  systemd.services.nix-gc.serviceConfig.ExecStartPre =
    "${config.nix.package}/bin/nix-env --profile /nix/var/nix/profiles/system --delete-generations +2";
  boot.loader.grub.configurationLimit = lib.mkDefault 2;

  # The file-mode table of seed 004: secrets 0600 (the push writes them so), their folders 0700.
  systemd.tmpfiles.rules = [
    "d /etc/clawd-mesh 0700 root root -"
    "d /etc/wireguard 0700 root root -"
  ];

  # Where SSH answers the internet (an entry node, or break-glass), fail2ban's sshd jail.
  services.fail2ban = lib.mkIf (node.hardening.fail2ban != null) {
    enable = true;
    jails.sshd.settings = mesh.fail2ban node;
  };
}
