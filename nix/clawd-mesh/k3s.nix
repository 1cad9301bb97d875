# k3s speaking over the mesh: node IP and flannel on WireGuard, agents joining the server's
# mesh address. The flags come from clawd-mesh's plan; the join token is a mode-0600 file; the
# server snapshots its datastore on a timer.
{ config, lib, pkgs, ... }:
let
  node = config.clawdMesh.node;
  k = node.k3s;
  mesh = import ./lib.nix;
  wgUnit = mesh.wireguardUnit node;
  snapshot = pkgs.writeShellScript "k3s-snapshot" (builtins.readFile ./k3s-snapshot.sh);
in
{
  config = lib.mkIf (k != null) (lib.mkMerge [
    {
      services.k3s = mesh.k3s node;
      systemd.services.k3s = {
        after = [ wgUnit ];
        wants = [ wgUnit ];
      };
    }
    (lib.mkIf (k.snapshotSchedule != null) {
      systemd.services.k3s-snapshot = {
        description = "Snapshot of the k3s datastore";
        path = [ pkgs.sqlite pkgs.coreutils ];
        serviceConfig = {
          Type = "oneshot";
          ExecStart = "${snapshot}";
        };
      };
      systemd.timers.k3s-snapshot = {
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = k.snapshotSchedule;
          Persistent = true;
        };
      };
    })
  ]);
}
