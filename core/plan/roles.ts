// What each role runs, as tables both renderings read: the NixOS modules take them from
// node.json, and non-NixOS hosts get unit files rendered from the same rows.
import { LIBEXEC, OLLAMA_PORT, SECRETS_DIR, VAULT_BINARY, VAULT_USER } from "../fleet/catalog";
import type { Fleet, FleetNode } from "../fleet/fleet";
import type { VaultSettings } from "../fleet/schema";
import { OS_PROFILES } from "./osProfile";
import { sshAnswersPublicly } from "./sshd";

/** Where the push scripts keep the helpers that services run (defined in the catalog). */
export { LIBEXEC, SECRETS_DIR };

export type Directives = readonly (readonly [string, string])[];

export interface OllamaPlan {
  /** OLLAMA_HOST: the mesh address only, unless public Ollama was explicitly allowed. */
  readonly host: string;
  readonly port: number;
  readonly models: readonly string[];
}

export interface VaultPlan {
  readonly user: string;
  readonly binary: string;
  readonly binaryUrl: string;
  readonly binarySha256: string;
  readonly dataDir: string;
  readonly environmentFile: string;
  readonly healthUrl: string;
  /** [Service] of the vault unit: seed 001's service, sandboxed as seed 004 says. */
  readonly service: Directives;
  /** [Service] of the periodic `PRAGMA integrity_check`. */
  readonly integrityService: Directives;
  readonly integrityCalendar: string;
}

export interface HardeningPlan {
  /** fail2ban's sshd jail (seed 004: 5 tries in 600 s ban for 3600 s) where SSH is public. */
  readonly fail2ban: {
    readonly port: number;
    readonly maxretry: 5;
    readonly findtime: 600;
    readonly bantime: 3600;
  } | null;
  /** Debian and Ubuntu: security updates applied by unattended-upgrades. */
  readonly unattendedUpgrades: boolean;
}

export function planOllama(node: FleetNode, meshIp: string): OllamaPlan | null {
  if (!node.ollama) return null;
  return {
    host: node.allowPublic.includes("ollama") ? "0.0.0.0" : meshIp,
    port: OLLAMA_PORT,
    models: node.ollama.models.map((m) => m.name),
  };
}

/**
 * What the vault's units need of the system is files, sockets and nothing else: without these
 * `systemd-analyze security` rated clavitor.service 5.3 MEDIUM on a booted Debian 12 (issue 13
 * asks OK or better); with them 1.8 OK. Not MemoryDenyWriteExecute: a JIT (the lab's stand-in
 * is Node) needs writable executable memory.
 */
const SANDBOX: Directives = [
  ["PrivateDevices", "yes"],
  ["ProtectClock", "yes"],
  ["ProtectHostname", "yes"],
  ["ProtectProc", "invisible"],
  ["RestrictNamespaces", "yes"],
  ["RestrictSUIDSGID", "yes"],
  ["RestrictRealtime", "yes"],
  ["LockPersonality", "yes"],
  ["RemoveIPC", "yes"],
  ["SystemCallArchitectures", "native"],
  ["SystemCallFilter", "@system-service"],
];

export function planVault(v: VaultSettings | undefined, meshIp: string): VaultPlan | null {
  if (!v) return null;
  const binary = VAULT_BINARY;
  const environmentFile = `${SECRETS_DIR}/clavitor.env`;
  return {
    user: VAULT_USER,
    binary,
    binaryUrl: v.binaryUrl,
    binarySha256: v.binarySha256,
    dataDir: v.dataDir,
    environmentFile,
    healthUrl: `http://${meshIp}${v.healthPath}`,
    service: [
      ["ExecStart", binary],
      ["Restart", "always"],
      ["RestartSec", "5"],
      ["EnvironmentFile", environmentFile],
      ["User", VAULT_USER],
      ["Group", VAULT_USER],
      // It binds 80 and 443 itself (autocert), without being root.
      ["AmbientCapabilities", "CAP_NET_BIND_SERVICE"],
      ["CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"],
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["ProtectKernelTunables", "yes"],
      ["ProtectKernelModules", "yes"],
      ["ProtectKernelLogs", "yes"],
      ["ProtectControlGroups", "yes"],
      ["ReadWritePaths", v.dataDir],
      ["MemoryMax", v.memoryMax],
      ["TasksMax", String(v.tasksMax)],
      ...SANDBOX,
      ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
    ],
    integrityService: [
      ["Type", "oneshot"],
      ["User", VAULT_USER],
      ["Environment", `CLAVITOR_DB=${v.dataDir}/clavitor.db`],
      ["ExecStart", `${LIBEXEC}/vault-integrity-check`],
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["ReadOnlyPaths", v.dataDir],
      ...SANDBOX,
      // It reads a file and answers no one.
      ["PrivateNetwork", "yes"],
      ["RestrictAddressFamilies", "AF_UNIX"],
    ],
    integrityCalendar: v.integrityCheck,
  };
}

export function planHardening(fleet: Fleet, node: FleetNode): HardeningPlan {
  return {
    fail2ban: sshAnswersPublicly(fleet, node)
      ? { port: fleet.ssh.port, maxretry: 5, findtime: 600, bantime: 3600 }
      : null,
    // Where the OS has the package (NixOS updates by a new pin, the stack's nixpkgs).
    unattendedUpgrades:
      node.os !== "nixos" && OS_PROFILES[node.os].packages.unattendedUpgrades !== null,
  };
}

/** The order a new vault binary goes out in: by name, the hub (the SOC, seed 001) last. */
export function rolloutOrder(fleet: Fleet): FleetNode[] {
  const vaults = fleet.nodes.filter((n) => n.vault).sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...vaults.filter((n) => !n.roles.includes("hub")),
    ...vaults.filter((n) => n.roles.includes("hub")),
  ];
}
