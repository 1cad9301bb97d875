# The vault service of seed 001: one binary under /opt, its settings in a mode-0600
# EnvironmentFile, sandboxed as seed 004 describes, and a periodic SQLite integrity check.
{ config, lib, pkgs, ... }:
let
  node = config.clawdMesh.node;
  v = node.vault;
  integrityCheck = pkgs.writeShellScript "clavitor-integrity-check" (builtins.readFile ./vault-integrity-check.sh);
in
{
  config = lib.mkIf (v != null) {
    users.users.clavitor = {
      isSystemUser = true;
      group = "clavitor";
      home = v.dataDir;
      shell = "${pkgs.shadow}/bin/nologin";
    };
    users.groups.clavitor = { };

    systemd.tmpfiles.rules = [
      "d ${v.dataDir} 0700 clavitor clavitor -"
      "d /etc/clavitor 0700 root root -"
    ];

    systemd.services.clavitor = {
      description = "Clavitor vault";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        ExecStart = "/opt/clavitor/clavitor";
        Restart = "always";
        RestartSec = 5;
        EnvironmentFile = "/etc/clavitor/env";
        User = "clavitor";
        Group = "clavitor";
        # Binds 80 and 443 itself (autocert), without running as root.
        AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
        CapabilityBoundingSet = [ "CAP_NET_BIND_SERVICE" ];
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ReadWritePaths = [ v.dataDir ];
        MemoryMax = v.memoryMax;
        TasksMax = v.tasksMax;
      };
    };

    systemd.services.clavitor-integrity = {
      description = "SQLite integrity check of the Clavitor vault";
      path = [ pkgs.sqlite ];
      environment.CLAVITOR_DB = "${v.dataDir}/clavitor.db";
      serviceConfig = {
        Type = "oneshot";
        User = "clavitor";
        ExecStart = integrityCheck;
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        ReadOnlyPaths = [ v.dataDir ];
      };
    };
    systemd.timers.clavitor-integrity = {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = v.integrityCheck;
        Persistent = true;
      };
    };
  };
}
