# The vault service of seed 001: one binary under /opt, its settings in a mode-0600
# EnvironmentFile, sandboxed as seed 004 describes, and a periodic SQLite integrity check. The
# unit's directives are clawd-mesh's table (node.json), the same rows non-NixOS hosts get.
{ config, lib, pkgs, ... }:
let
  node = config.clawdMesh.node;
  v = node.vault;
  units = (import ./lib.nix).vault node;
  integrityCheck = pkgs.writeShellScript "vault-integrity-check" (builtins.readFile ./vault-integrity-check.sh);
in
{
  config = lib.mkIf (v != null) {
    users.users.${v.user} = {
      isSystemUser = true;
      group = v.user;
      home = v.dataDir;
      shell = "${pkgs.shadow}/bin/nologin";
    };
    users.groups.${v.user} = { };

    systemd.tmpfiles.rules = [
      "d ${v.dataDir} 0700 ${v.user} ${v.user} -"
      "d ${dirOf v.binary} 0755 root root -"
    ];
    # The binary arrives by `clawd-mesh-receive vault-install`: it downloads and checks it.
    environment.systemPackages = [ pkgs.curl pkgs.sqlite ];

    systemd.services.clavitor = {
      description = "Clavitor vault";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      serviceConfig = units.service;
    };

    systemd.services.clavitor-integrity = {
      description = "SQLite integrity check of the Clavitor vault";
      path = [ pkgs.sqlite ];
      # The helper from the store, where other hosts have it under /usr/local/lib.
      serviceConfig = units.integrity // { ExecStart = lib.mkForce "${integrityCheck}"; };
    };
    systemd.timers.clavitor-integrity = {
      wantedBy = [ "timers.target" ];
      timerConfig = units.timer;
    };
  };
}
