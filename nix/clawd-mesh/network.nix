# WireGuard and the firewall. The nftables-based NixOS firewall is used so its rules read like
# the generic nftables.conf of non-NixOS nodes.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
in
{
  networking.wireguard.interfaces = mesh.wireguard node;
  networking.nftables.enable = true;
  networking.firewall = mesh.firewall node;
  networking.nftables.tables.clawd_mesh_icmpv6 = mesh.icmpv6EchoTable node;
  networking.nftables.tables.clawd_mesh_metadata =
    lib.mkIf node.firewall.metadataRootOnly (mesh.metadataTable node);
  boot.kernel.sysctl = node.sysctl;
}
