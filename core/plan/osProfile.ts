// What differs between the operating systems a push configures, in one table the compiler
// checks for every OS: where nftables reads its rules, which init system and package manager
// it has, how accounts are made, and what the packages the push needs are called. The push
// scripts read these from node.env instead of guessing from what they find on the host.
// NixOS gets its programs and accounts from its modules; only its init system is asked.
import type { Os } from "../fleet/catalog";
import type { NodeModel } from "./model";

export type InitSystem = "systemd" | "openrc";

export interface OsProfile {
  readonly nftFile: string;
  readonly packageManager: "apt" | "apk";
  /** OpenRC starts WireGuard from local.d; systemd has wg-quick@. */
  readonly init: InitSystem;
  /**
   * shadow: useradd and gpasswd; busybox: adduser, addgroup and delgroup (Alpine has no
   * useradd unless the shadow package is added).
   */
  readonly accounts: "shadow" | "busybox";
  /** The shell of accounts that must not log in. */
  readonly nologin: string;
  /** Package names, by what they are for. */
  readonly packages: {
    readonly base: readonly string[];
    readonly sqlite: string;
    readonly curl: string;
    readonly fail2ban: readonly string[];
    readonly unattendedUpgrades: string | null;
  };
}

const DEBIAN_PACKAGES: OsProfile["packages"] = {
  base: ["nftables", "wireguard-tools", "sudo"],
  sqlite: "sqlite3",
  curl: "curl",
  // The jail reads the journal (backend = systemd) through python3-systemd, only a Recommends.
  fail2ban: ["fail2ban", "python3-systemd"],
  unattendedUpgrades: "unattended-upgrades",
};

const DEBIAN: OsProfile = {
  nftFile: "/etc/nftables.conf",
  packageManager: "apt",
  init: "systemd",
  accounts: "shadow",
  nologin: "/usr/sbin/nologin",
  packages: DEBIAN_PACKAGES,
};

export const OS_PROFILES: Record<Exclude<Os, "nixos">, OsProfile> = {
  debian: DEBIAN,
  ubuntu: DEBIAN,
  alpine: {
    nftFile: "/etc/nftables.nft",
    packageManager: "apk",
    init: "openrc",
    accounts: "busybox",
    nologin: "/sbin/nologin",
    packages: {
      base: ["nftables", "wireguard-tools", "sudo"],
      sqlite: "sqlite",
      curl: "curl",
      fail2ban: ["fail2ban"],
      unattendedUpgrades: null,
    },
  },
};

export function initSystemOf(os: Os): InitSystem {
  return os === "nixos" ? "systemd" : OS_PROFILES[os].init;
}

/** The packages a node's push needs installed before its files are checked. */
export function packagesOf(node: NodeModel): string[] {
  if (node.os === "nixos") return [];
  const p = OS_PROFILES[node.os].packages;
  return [
    ...p.base,
    // The vault's integrity check reads its database; curl fetches its binary and asks each
    // role's health endpoint before a push is kept.
    ...(node.vault ? [p.sqlite] : []),
    ...(node.vault || node.ollama || node.k3s?.role === "server" ? [p.curl] : []),
    ...(node.hardening.fail2ban ? p.fail2ban : []),
    ...(node.hardening.unattendedUpgrades && p.unattendedUpgrades ? [p.unattendedUpgrades] : []),
  ];
}
