// The NixOS side of a node: node.json (the node model as data) next to a configuration.nix
// that is the same for every node and the modules it imports. No Nix is generated: the
// .nix files are copied as they are from nix/, and only JSON varies per node.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NIXOS_RELEASES, PROVIDERS, ROLES, TOPOLOGIES } from "../fleet/catalog";
import { meshInputSets } from "../plan/firewallSets";
import type { NodeModel } from "../plan/model";
import { BOOT_ROLLBACK, BOOT_ROLLBACK_SCRIPT } from "../plan/files";

export const NIX_DIR = join(__dirname, "..", "..", "nix");

/**
 * node.json: the model, with its tables (sshd settings, unit directives, k3s settings, kernel
 * settings) as attribute sets, and the firewall's rules as the generic nftables.conf groups
 * them (core/plan/firewallSets.ts; a hub's forwarding is planned so), so NixOS writes the same
 * sets and decides nothing. The per-source allowances those rules are grouped from stay out:
 * the modules read the rules only, and a second copy grew every node's file with the fleet.
 * Every field is an option in nix/clawd-mesh/options.nix.
 */
export function nixosNodeDocument(node: NodeModel): unknown {
  const { meshAccess, ...firewall } = node.firewall;
  return {
    ...node,
    firewall: { ...firewall, meshInput: meshInputSets({ ...firewall, meshAccess }) },
    ssh: { ...node.ssh, settings: Object.fromEntries(node.ssh.settings) },
    vault: node.vault && {
      ...node.vault,
      service: Object.fromEntries(node.vault.service),
      integrityService: Object.fromEntries(node.vault.integrityService),
    },
    k3s: node.k3s && { ...node.k3s, settings: Object.fromEntries(node.k3s.settings) },
    sysctl: Object.fromEntries(node.sysctl),
  };
}

/**
 * The catalog's vocabularies that options.nix makes enums of, and the boot rollback's unit and
 * script (boot-rollback.nix), so they are written once.
 */
export function nixCatalog(): string {
  const catalog = {
    providers: PROVIDERS,
    roles: ROLES,
    topologies: TOPOLOGIES,
    nixosReleases: Object.keys(NIXOS_RELEASES).sort(),
    bootRollback: { unit: BOOT_ROLLBACK, script: BOOT_ROLLBACK_SCRIPT },
  };
  return `${JSON.stringify(catalog, null, 2)}\n`;
}

let sources: ReadonlyMap<string, string> | undefined;

/** The static Nix files, relative to the node's configuration directory. */
export function nixSources(): ReadonlyMap<string, string> {
  if (!sources) {
    const moduleDir = join(NIX_DIR, "clawd-mesh");
    const modules = readdirSync(moduleDir)
      .sort()
      .map((f): [string, string] => [`clawd-mesh/${f}`, readFileSync(join(moduleDir, f), "utf8")]);
    // The push receiver is shared with non-NixOS nodes; NixOS installs it from the module.
    const receiver = join(NIX_DIR, "..", "push", "receive.sh");
    sources = new Map([
      ["configuration.nix", readFileSync(join(NIX_DIR, "configuration.nix"), "utf8")],
      ...modules,
      ["clawd-mesh/catalog.json", nixCatalog()],
      ["clawd-mesh/receive.sh", readFileSync(receiver, "utf8")],
    ]);
  }
  return sources;
}

export function renderNixos(node: NodeModel): Map<string, string> {
  return new Map([
    ...nixSources(),
    ["node.json", `${JSON.stringify(nixosNodeDocument(node), null, 2)}\n`],
  ]);
}
