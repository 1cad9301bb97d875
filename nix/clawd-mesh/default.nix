# Everything a clawd-mesh node runs, driven by config.clawdMesh.node (node.json).
{
  imports = [
    ./options.nix
    ./network.nix
    ./ssh.nix
    ./base.nix
    ./nixpkgs.nix
    ./ollama.nix
    ./vault.nix
    ./k3s.nix
    ./boot-rollback.nix
  ];
}
