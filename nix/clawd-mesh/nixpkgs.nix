# The stack's one pinned nixpkgs (node.nixos.nixpkgs). clawd-mesh-receive fetches it, checks its
# hash and builds with `-I nixpkgs=` that tree; this module makes the host keep to it: later
# manual rebuilds, nix-shell and `nix run nixpkgs#…` resolve nixpkgs to the same tree, and no
# channel is read or updated.
{ config, lib, ... }:
let
  node = config.clawdMesh.node;
  mesh = import ./lib.nix;
  pin = node.nixos.nixpkgs;
  # A fixed-output path: the same store path apply.sh's nix-prefetch-url made (same name, same
  # hash), so this evaluates without a download where the push ran. Referencing it from the
  # system keeps it alive through nix.gc.
  tree = builtins.fetchTarball { name = "source"; inherit (pin) url sha256; };
in
{
  assertions = [{
    # Building from another release (a stray -I, an old channel) would quietly change
    # option meanings; clawd-mesh-receive always builds from the pin.
    assertion = lib.trivial.release == pin.release;
    message = "clawd-mesh: ${node.name} is pinned to ${pin.branch} (${pin.rev}) but is being built from NixOS ${lib.trivial.release}'s nixpkgs; rebuild with -I nixpkgs=<the pinned tree> (the push does).";
  }];

  nix = mesh.nixpkgs pin tree;
}
