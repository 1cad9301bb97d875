# What every node has regardless of role: a host name, the state version, and a Nix store
# that does not fill the 10 GB disks of seed 001 (two generations kept).
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
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
}
