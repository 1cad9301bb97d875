// What differs between the operating systems a push configures, in one table the compiler
// checks for every OS: where nftables reads its rules, whether apt and OpenRC are there, and
// what the packages the push needs are called. NixOS gets its programs from its modules.
import type { Os } from "../fleet/catalog";
import type { NodeModel } from "./model";

export interface OsProfile {
  readonly nftFile: string;
  readonly apt: boolean;
  /** OpenRC starts WireGuard from local.d; systemd has wg-quick@. */
  readonly openrc: boolean;
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

export const OS_PROFILES: Record<Exclude<Os, "nixos">, OsProfile> = {
  debian: { nftFile: "/etc/nftables.conf", apt: true, openrc: false, packages: DEBIAN_PACKAGES },
  ubuntu: { nftFile: "/etc/nftables.conf", apt: true, openrc: false, packages: DEBIAN_PACKAGES },
  alpine: {
    nftFile: "/etc/nftables.nft",
    apt: false,
    openrc: true,
    packages: {
      base: ["nftables", "wireguard-tools", "sudo"],
      sqlite: "sqlite",
      curl: "curl",
      fail2ban: ["fail2ban"],
      unattendedUpgrades: null,
    },
  },
};

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
