# Ollama on the mesh address only (seeds 000 and 002): never on a public address, and the
# firewall opens 11434 on wg0 only to the sources the access rules name.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  wgUnit = "wireguard-${node.wireguard.interface}.service";
in
{
  config = lib.mkIf (node.ollama != null) {
    services.ollama = {
      enable = true;
      host = node.meshIp;
      port = 11434;
      loadModels = map (m: m.name) node.ollama.models;
      openFirewall = false;
    };
    systemd.services.ollama = {
      after = [ wgUnit ];
      wants = [ wgUnit ];
    };
  };
}
