// First-boot user-data for cloud hosts. Its one job is the host's SSH identity: the program
// generates the host key, so the first connection can already be pinned to it. The key sits in
// the cloud's metadata, which only the provider's API and the instance itself can read (IMDSv2
// on AWS); every later push re-installs the same key from the program's secrets.
import { stringify } from "yaml";
import type { Os, Provider } from "../fleet/catalog";

/**
 * nixos-infect turns a Vultr Ubuntu image into NixOS (seed 001). Pinned, because it runs as
 * root: elitak/nixos-infect 7563801d3ae68c975e4027f4e31a3906dca95f30 (2026-01-21, "Add
 * hostmyserver (#253)"), whose README sets Vultr up from an Ubuntu box (tested on 22.04 x64).
 */
export const NIXOS_INFECT_URL =
  "https://raw.githubusercontent.com/elitak/nixos-infect/7563801d3ae68c975e4027f4e31a3906dca95f30/nixos-infect";

/** What a NixOS host is installed with: the stack's release, and its own stateVersion. */
export interface NixosInstall {
  /**
   * The channel nixos-infect installs from: the stack's pinned branch. Only the first boot
   * uses it; the first push rebuilds from the pinned commit and turns channels off.
   */
  readonly branch: string;
  readonly stateVersion: string;
}

export interface HostIdentity {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** cloud-init for Debian and Ubuntu images (Vultr, AWS), optionally infecting to NixOS. */
export function cloudInitUserData(os: Os, identity: HostIdentity, nixos?: NixosInstall): string {
  const config: Record<string, unknown> = {
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: identity.privateKey, ed25519_public: identity.publicKey },
  };
  if (os === "nixos") {
    if (!nixos) throw new Error("a NixOS host needs its release and stateVersion to install");
    // nixos-infect rebuilds the root file system but carries /etc/nixos over: the key and the
    // module that points sshd at it travel there. nixos-infect writes stateVersion 23.11 into
    // its own configuration.nix; the host's is the node's from its first boot on.
    config.write_files = [
      {
        path: "/etc/nixos/ssh_host_ed25519_key",
        permissions: "0600",
        content: identity.privateKey,
      },
      {
        path: "/etc/nixos/host.nix",
        permissions: "0644",
        content: [
          "{ lib, ... }: {",
          '  services.openssh.hostKeys = [ { path = "/etc/nixos/ssh_host_ed25519_key"; type = "ed25519"; } ];',
          `  system.stateVersion = lib.mkForce "${nixos.stateVersion}";`,
          "}",
          "",
        ].join("\n"),
      },
    ];
    config.runcmd = [
      `curl -fsSL ${NIXOS_INFECT_URL} | NIXOS_IMPORT=./host.nix NIX_CHANNEL=${nixos.branch} bash -x >/var/log/nixos-infect.log 2>&1`,
    ];
  }
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/** NixOS's EC2 image runs a user-data script that starts with #!. */
export function nixosAmiUserData(identity: HostIdentity): string {
  return [
    "#!/bin/sh",
    "# Written by clawd-mesh: install the host key the program pinned, then restart sshd.",
    "set -eu",
    "umask 077",
    "cat >/etc/ssh/ssh_host_ed25519_key <<'KEY'",
    identity.privateKey.trimEnd(),
    "KEY",
    `echo '${identity.publicKey}' >/etc/ssh/ssh_host_ed25519_key.pub`,
    "chmod 644 /etc/ssh/ssh_host_ed25519_key.pub",
    "systemctl restart sshd",
    "",
  ].join("\n");
}

/** cloud-init's user data, except where a provider boots NixOS from an image without it. */
export function userDataFor(
  provider: Provider,
  os: Os,
  identity: HostIdentity,
  nixos?: NixosInstall,
): string {
  return provider === "aws" && os === "nixos"
    ? nixosAmiUserData(identity)
    : cloudInitUserData(os, identity, nixos);
}
