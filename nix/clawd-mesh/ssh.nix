# sshd and the admin user. The table of settings comes from clawd-mesh unchanged.
{ config, lib, pkgs, ... }:
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

  # The push receiver (the same script non-NixOS nodes get) is the only thing the admin may
  # run as root.
  environment.systemPackages = [
    (pkgs.writeShellScriptBin "clawd-mesh-receive" (builtins.readFile ./receive.sh))
  ];
  security.sudo.extraRules = [{
    users = [ node.ssh.adminUser ];
    commands = [{ command = "/run/current-system/sw/bin/clawd-mesh-receive"; options = [ "NOPASSWD" ]; }];
  }];

  # sshd may start before wg0 has its address (non-local bind is on); make it wait when it can.
  systemd.services.sshd = {
    after = [ (mesh.wireguardUnit node) ];
    wants = [ (mesh.wireguardUnit node) ];
  };
}
