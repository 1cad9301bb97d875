# Present only between a host's first push (over its public address) and the push that is
# proven over the mesh: sshd listens everywhere, and the firewall lets SSH in from the
# operator's networks (fleet.ssh.firstContactFrom), or from anywhere when none are named.
# The push installs this file as /etc/nixos/bootstrap.nix, beside the clawd-mesh folder.
{ config, lib, ... }:
let
  mesh = import ./clawd-mesh/lib.nix;
  first = config.clawdMesh.node.firewall.firstContact;
in
{
  services.openssh.listenAddresses = lib.mkForce [ ];
  networking.firewall.allowedTCPPorts = lib.mkIf (first.cidrs == [ ]) first.tcpPorts;
  networking.firewall.extraInputRules = lib.mkIf (first.cidrs != [ ]) (
    mesh.firstContactRules first
  );
}
