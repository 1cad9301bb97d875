# The boot rollback other hosts get as clawd-mesh-boot-rollback.service (see
# core/render/bootRollback.ts): a push a restart caught unconfirmed is rolled back before the
# firewall, WireGuard and sshd start. The system that boots is the boot entry, which only a
# confirmation makes, but what the push placed outside the store (the WireGuard key,
# /etc/nixos, node.env) stays the unconfirmed push's until this puts it back; the next apply
# would otherwise be first to, and a confirmation inside the window would keep a push that no
# timer guards any more.
{ config, pkgs, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
  catalog = builtins.fromJSON (builtins.readFile ./catalog.json);
  inherit (catalog.bootRollback) unit script;
in
{
  systemd.services.${unit} = {
    description = "Roll back a push left unconfirmed by a restart";
    # Outside the default dependencies: nftables.service runs before sysinit.target.
    unitConfig = {
      DefaultDependencies = false;
      ConditionPathExists = script;
    };
    after = [ "local-fs.target" ];
    before = [
      "sysinit.target"
      "network-pre.target"
      "nftables.service"
      (mesh.wireguardUnit node)
      "sshd.service"
      "shutdown.target"
    ];
    conflicts = [ "shutdown.target" ];
    wantedBy = [ "sysinit.target" ];
    # What the push scripts' lock and restore use beyond a unit's default path.
    path = [ pkgs.util-linux pkgs.gnutar pkgs.gawk pkgs.diffutils ];
    serviceConfig = {
      Type = "oneshot";
      # Through sh, not run directly: /var may be mounted noexec.
      ExecStart = "${pkgs.bash}/bin/sh ${script} boot";
    };
  };
}
