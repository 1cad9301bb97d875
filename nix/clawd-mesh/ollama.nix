# Ollama on the mesh address only (seeds 000 and 002), unless public Ollama was explicitly
# allowed; the firewall opens 11434 on wg0 only to the sources the access rules name. NixOS
# pulls the listed models itself (loadModels) and keeps them.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
  o = node.ollama;
  wgUnit = mesh.wireguardUnit node;
in
{
  config = lib.mkIf (o != null) {
    services.ollama = mesh.ollama node;
    systemd.services.ollama = {
      after = [ wgUnit ];
      wants = [ wgUnit ];
    };
  };
}
