# NixOS configuration of one clawd-mesh node. Every node gets this same file; what differs
# between nodes is data, in node.json beside it, written by clawd-mesh.
{ ... }:
let
  node = builtins.fromJSON (builtins.readFile ./node.json);
  # The host's own hardware description, as nixos-infect or nixos-generate-config left it.
  # bootstrap.nix is there only until a push proven over the mesh removes it.
  hostFiles = builtins.filter builtins.pathExists [
    ./hardware-configuration.nix
    ./networking.nix
    ./bootstrap.nix
  ];
in
{
  imports = [
    ./clawd-mesh
  ]
  ++ hostFiles
  ++ (if node.provider == "aws" then [ ./clawd-mesh/aws.nix ] else [ ]);

  clawdMesh.node = node;
}
