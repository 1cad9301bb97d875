# k3s speaking over the mesh: node IP and flannel on WireGuard, agents joining the server's
# mesh address. The flags come from clawd-mesh's plan; the join token is a mode-0600 file.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  k = node.k3s;
  wgUnit = "wireguard-${node.wireguard.interface}.service";
in
{
  config = lib.mkIf (k != null) {
    services.k3s = {
      enable = true;
      inherit (k) role;
      tokenFile = k.tokenFile;
      serverAddr = if k.role == "agent" then "https://${k.serverIp}:6443" else "";
      extraFlags = k.flags;
    };
    systemd.services.k3s = {
      after = [ wgUnit ];
      wants = [ wgUnit ];
    };
  };
}
