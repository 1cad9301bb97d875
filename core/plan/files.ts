// Where every file of a push lands on its node: destination, mode, the check it must pass
// before anything is switched, and what to do with the services that read it when it
// changes. The push scripts loop over this table (rendered as the bundle's `manifest`) to
// install, snapshot, roll back, tell "unchanged" and report drift; no destination, mode or
// unit is written in shell, so a file added here is one a rollback also puts back.
import { LIBEXEC, SECRETS_DIR, STATE_DIR } from "../fleet/catalog";
import type { NodeModel } from "./model";
import { OS_PROFILES, type OsProfile } from "./osProfile";
import { HOST_KEY } from "./sshd";
import { K3S_TOKEN_FILE } from "./k3s";

/** Where the scripts find the node's facts and its installed manifest (lib.sh names both too). */
export const NODE_ENV_FILE = `${SECRETS_DIR}/node.env`;
export const MANIFEST_FILE = `${SECRETS_DIR}/manifest`;
/** The receiver on hosts that are not NixOS (NixOS puts it in the system profile). */
export const RECEIVER = "/usr/local/sbin/clawd-mesh-receive";
export const NIXOS_RECEIVER = "/run/current-system/sw/bin/clawd-mesh-receive";
/** A push armed and not yet confirmed or rolled back (lib.sh's PENDING; a test holds them equal). */
export const PENDING_DIR = `${STATE_DIR}/pending`;
/** The service that rolls back, at boot, a push a restart caught unconfirmed (systemd and OpenRC). */
export const BOOT_ROLLBACK = "clawd-mesh-boot-rollback";
/** What it runs: the pending push's own rollback, the one its timer would have run. */
export const BOOT_ROLLBACK_SCRIPT = `${PENDING_DIR}/scripts/rollback.sh`;

/** The files the scripts act on by name (node.env carries them), beside the manifest's rows. */
export interface NodePaths {
  readonly wgConf: string;
  readonly wgKey: string;
  readonly receiver: string;
  /** Hosts that are not NixOS: */
  readonly sshdConfig: string;
  readonly sysctlFile: string;
  readonly nftFile: string;
  /** NixOS: */
  readonly nixosConfig: string;
}

export function nodePaths(node: NodeModel): NodePaths {
  const iface = node.wireguard.interface;
  return {
    wgConf: `/etc/wireguard/${iface}.conf`,
    wgKey: `/etc/wireguard/${iface}.key`,
    receiver: node.os === "nixos" ? NIXOS_RECEIVER : RECEIVER,
    sshdConfig: "/etc/ssh/sshd_config",
    sysctlFile: "/etc/sysctl.d/60-clawd-mesh.conf",
    nftFile: node.os === "nixos" ? "/etc/nftables.conf" : OS_PROFILES[node.os].nftFile,
    nixosConfig: "/etc/nixos/configuration.nix",
  };
}

/**
 * `any`: every push; `mesh`: pushes over the mesh; `first`: first contact, instead of the
 * `mesh` row with the same destination (public SSH stays open until the mesh is proven).
 */
export type Phase = "any" | "mesh" | "first";
/**
 * `file` and `secret` (never printed, not even as a digest) are installed; `dir` is made with
 * its mode; `access` is the admin account's way in, which a decommission removes last.
 */
export type EntryKind = "file" | "secret" | "dir" | "access";
/** The tool that must accept the file before the switch (apply.sh `check`). */
export type FileCheck = "sshd" | "nft" | "wg" | "sudoers" | "hostkey";
/** systemd verbs run on a unit when its file changed (or after a rollback). */
export type UnitAction =
  | "enable"
  | "enable-now"
  | "restart"
  | "try-restart"
  | "start-no-block"
  | "reload-or-restart"
  /** Started in early boot: systemd by the unit's [Install], OpenRC in its boot runlevel. */
  | "enable-boot";

export interface PlacedFile {
  readonly phase: Phase;
  readonly kind: EntryKind;
  /** Relative to the unpacked push: `bundle/…`, `secrets/…` or `scripts/…`; "-" for a dir. */
  readonly source: string;
  readonly destination: string;
  /** Octal, as chmod takes it. */
  readonly mode: string;
  readonly check: FileCheck | null;
  readonly onChange: readonly (readonly [string, UnitAction])[];
}

/** Secret files a push may carry (components/meshNode.ts and the role components fill them). */
export const SECRET_NAMES = [
  "wg0.key",
  "ssh_host_ed25519_key",
  "k3s-token",
  "clavitor.env",
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** The secrets this node's push carries: the program fills exactly these. */
export function secretNames(node: NodeModel): SecretName[] {
  return SECRET_NAMES.filter((name) => {
    switch (name) {
      case "wg0.key":
        return true;
      case "ssh_host_ed25519_key":
        // Made by the program for cloud hosts; an existing host keeps its own.
        return node.provider !== "existing";
      case "k3s-token":
        return node.k3s !== null;
      case "clavitor.env":
        return node.vault !== null;
    }
  });
}

/** The openrc start script's place in the bundle (rendered by core/render/bundle.ts). */
export const OPENRC_WG_START = "openrc/clawd-mesh-wireguard.start";
/** The boot rollback's OpenRC service in the bundle (core/render/bootRollback.ts). */
export const OPENRC_BOOT_ROLLBACK = `openrc/${BOOT_ROLLBACK}`;

const row = (
  source: string,
  destination: string,
  mode: string,
  more: Partial<Pick<PlacedFile, "phase" | "kind" | "check" | "onChange">> = {},
): PlacedFile => ({
  phase: "any",
  kind: "file",
  check: null,
  onChange: [],
  ...more,
  source,
  destination,
  mode,
});

const dir = (destination: string, mode: string): PlacedFile =>
  row("-", destination, mode, { kind: "dir" });

/** The vault's unit (core/render/roles.ts renders it; vault.sh restarts it). */
export const VAULT_UNIT = "clavitor.service";

/**
 * k3s's own unit, restarted when its token or configuration changed (and only if installed):
 * `k3s.service` (NixOS's for both roles, the install script's for a server), and on an agent
 * also `k3s-agent.service`, the install script's name for it.
 */
function k3sRestarts(node: NodeModel): PlacedFile["onChange"] {
  return [
    ["k3s.service", "try-restart"],
    ...(node.k3s?.role === "agent" ? ([["k3s-agent.service", "try-restart"]] as const) : []),
  ];
}

/** The services that read a role file, by the unit file's name. */
function unitActions(unitFile: string): PlacedFile["onChange"] {
  if (unitFile.endsWith(".timer")) return [[unitFile, "enable-now"]];
  // Enabled, never started: it runs at boot, and only a boot finds a push without its timer.
  if (unitFile === `${BOOT_ROLLBACK}.service`) return [[unitFile, "enable-boot"]];
  if (unitFile === VAULT_UNIT)
    return [
      [VAULT_UNIT, "enable"],
      [VAULT_UNIT, "restart"],
    ];
  if (unitFile.startsWith("ollama.service.d/")) return [["ollama.service", "try-restart"]];
  return [];
}

function secretRow(node: NodeModel, name: SecretName): PlacedFile | null {
  const source = `secrets/${name}`;
  switch (name) {
    case "wg0.key":
      return row(source, nodePaths(node).wgKey, "600", {
        kind: "secret",
      });
    case "ssh_host_ed25519_key":
      // NixOS reads its host key from where its first boot put it.
      return node.os === "nixos"
        ? null
        : row(source, HOST_KEY, "600", { kind: "secret", check: "hostkey" });
    case "k3s-token":
      return row(source, K3S_TOKEN_FILE, "600", {
        kind: "secret",
        onChange: k3sRestarts(node),
      });
    case "clavitor.env":
      return row(source, `${SECRETS_DIR}/${name}`, "600", {
        kind: "secret",
        onChange: [[VAULT_UNIT, "restart"]],
      });
  }
}

/** The rows every node has, NixOS or not. */
function commonRows(node: NodeModel): PlacedFile[] {
  return [
    dir(SECRETS_DIR, "700"),
    row("bundle/node.env", NODE_ENV_FILE, "600"),
    row("bundle/manifest", MANIFEST_FILE, "600"),
    ...secretNames(node).flatMap((name) => secretRow(node, name) ?? []),
  ];
}

function nixosRows(paths: NodePaths, bundlePaths: readonly string[]): PlacedFile[] {
  return [
    dir("/etc/nixos/clawd-mesh", "755"),
    row("bundle/configuration.nix", paths.nixosConfig, "644"),
    row("bundle/node.json", "/etc/nixos/node.json", "644"),
    ...bundlePaths
      .filter((p) => p.startsWith("clawd-mesh/"))
      .map((p) => row(`bundle/${p}`, `/etc/nixos/${p}`, "644")),
    // First contact imports it; every later push removes it.
    row("bundle/clawd-mesh/bootstrap.nix", "/etc/nixos/bootstrap.nix", "644", { phase: "first" }),
  ];
}

function genericRows(node: NodeModel, os: OsProfile, bundlePaths: readonly string[]): PlacedFile[] {
  const paths = nodePaths(node);
  const under = (prefix: string) => bundlePaths.filter((p) => p.startsWith(prefix));
  return [
    row("bundle/wg0.conf", paths.wgConf, "600", { check: "wg" }),
    row("bundle/sshd_config", paths.sshdConfig, "644", { phase: "mesh", check: "sshd" }),
    row("bundle/bootstrap/sshd_config", paths.sshdConfig, "644", {
      phase: "first",
      check: "sshd",
    }),
    row("bundle/nftables.conf", paths.nftFile, "600", { phase: "mesh", check: "nft" }),
    row("bundle/bootstrap/nftables.conf", paths.nftFile, "600", { phase: "first", check: "nft" }),
    row("bundle/sysctl.conf", paths.sysctlFile, "644"),
    // sshd reads a user's keys as that user: the directory must be world-readable.
    dir("/etc/ssh/authorized_keys.d", "755"),
    row("bundle/authorized_keys", `/etc/ssh/authorized_keys.d/${node.ssh.adminUser}`, "644"),
    row("scripts/receive.sh", paths.receiver, "755", { kind: "access" }),
    row("bundle/sudoers", "/etc/sudoers.d/clawd-mesh", "440", { kind: "access", check: "sudoers" }),
    ...(os.init === "openrc"
      ? [
          row(`bundle/${OPENRC_WG_START}`, "/etc/local.d/clawd-mesh-wireguard.start", "755"),
          row(`bundle/${OPENRC_BOOT_ROLLBACK}`, `/etc/init.d/${BOOT_ROLLBACK}`, "755", {
            onChange: [[BOOT_ROLLBACK, "enable-boot"]],
          }),
        ]
      : []),
    dir(LIBEXEC, "755"),
    ...under("libexec/").map((p) =>
      row(
        `bundle/${p}`,
        `${LIBEXEC}/${p.slice("libexec/".length)}`,
        p.endsWith(".txt") ? "644" : "755",
        {
          onChange: p.startsWith("libexec/ollama-models")
            ? [["clawd-mesh-ollama-models.service", "start-no-block"]]
            : [],
        },
      ),
    ),
    ...under("systemd/").map((p) => {
      const unit = p.slice("systemd/".length);
      return row(`bundle/${p}`, `/etc/systemd/system/${unit}`, "644", {
        onChange: unitActions(unit),
      });
    }),
    ...under("k3s/").map((p) =>
      row(`bundle/${p}`, `/etc/rancher/${p}`, "600", {
        onChange: k3sRestarts(node),
      }),
    ),
    ...under("fail2ban/").map((p) =>
      row(`bundle/${p}`, `/etc/fail2ban/jail.d/${p.slice("fail2ban/".length)}`, "644", {
        // Not only a running fail2ban: Debian 12's failed at its install (its sshd jail finds no
        // log file until ours says backend = systemd), and a try- verb would leave it so.
        onChange: [
          ["fail2ban.service", "enable"],
          ["fail2ban.service", "reload-or-restart"],
        ],
      }),
    ),
    ...(os.packageManager === "apt"
      ? under("apt/").map((p) =>
          row(`bundle/${p}`, `/etc/apt/apt.conf.d/${p.slice("apt/".length)}`, "644"),
        )
      : []),
  ];
}

/**
 * Every file of the node's push, in a fixed order: directories before what they hold, then
 * by destination. `bundlePaths`: the bundle's files (renderBundle), which the rows name.
 */
export function placeFiles(node: NodeModel, bundlePaths: readonly string[]): PlacedFile[] {
  const rows = [
    ...commonRows(node),
    ...(node.os === "nixos"
      ? nixosRows(nodePaths(node), bundlePaths)
      : genericRows(node, OS_PROFILES[node.os], bundlePaths)),
  ];
  const rank = (r: PlacedFile) => (r.kind === "dir" ? 0 : 1);
  return rows.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0) ||
      (a.phase < b.phase ? -1 : a.phase > b.phase ? 1 : 0),
  );
}
