# sshd and the admin user. The table of settings comes from clawd-mesh unchanged.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
  openssh = mesh.openssh node;
in
{
  # The hardening table is forced: other modules must not loosen it (NixOS's EC2 module, for
  # one, sets PermitRootLogin to prohibit-password for its first boot).
  services.openssh = openssh // { settings = lib.mapAttrs (_: lib.mkForce) openssh.settings; };

  users.users.${node.ssh.adminUser} = {
    isNormalUser = true;
    openssh.authorizedKeys.keys = node.ssh.authorizedKeys;
  };

  # sshd may start before wg0 has its address (non-local bind is on); make it wait when it can.
  systemd.services.sshd = {
    after = [ "wireguard-${node.wireguard.interface}.service" ];
    wants = [ "wireguard-${node.wireguard.interface}.service" ];
  };
}
