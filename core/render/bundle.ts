// A node's bundle: every file the push uploads, by path relative to the bundle root. The
// same function feeds synth and the Pulumi program, so what a reviewer reads in synth output
// is what lands on the node.
import type { NodeModel } from "../plan/model";
import { renderNftables } from "./nftables";
import { renderNodeEnv } from "./nodeEnv";
import { renderManifest } from "./manifest";
import { BOOT_ROLLBACK, OPENRC_BOOT_ROLLBACK, OPENRC_WG_START, RECEIVER } from "../plan/files";
import { renderBootRollbackOpenrc, renderBootRollbackUnit } from "./bootRollback";
import { renderRoleFiles } from "./roles";
import { renderNixos } from "./nixos";
import { renderAuthorizedKeys, renderSshdConfig } from "./sshd";
import { renderSysctl } from "./sysctl";
import { renderWgQuick } from "./wireguard";
import { header } from "./header";

export type Bundle = ReadonlyMap<string, string>;

export function renderBundle(node: NodeModel): Bundle {
  const files = new Map<string, string>([
    ["wg0.conf", renderWgQuick(node)],
    ["sshd_config", renderSshdConfig(node)],
    ["nftables.conf", renderNftables(node)],
    // What first contact installs instead, before the mesh exists (apply.sh --bootstrap).
    ...(node.os === "nixos"
      ? []
      : [
          ["bootstrap/nftables.conf", renderNftables(node, { bootstrap: true })] as const,
          ["bootstrap/sshd_config", renderSshdConfig(node, { bootstrap: true })] as const,
        ]),
    ["sysctl.conf", renderSysctl(node)],
    ["authorized_keys", renderAuthorizedKeys(node)],
    ["node.env", renderNodeEnv(node)],
    ...renderRoleFiles(node),
    ...(node.os === "nixos" ? renderNixos(node) : accessFiles(node)),
  ]);
  files.set("manifest", renderManifest(node, [...files.keys()]));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Hosts that are not NixOS: the admin account's one sudo rule, OpenRC's WireGuard start, and
 * the boot rollback for the init the OS runs.
 */
function accessFiles(node: NodeModel): [string, string][] {
  return [
    [
      "sudoers",
      `${header(node, "The admin account's one way to root")}\n${node.ssh.adminUser} ALL=(root) NOPASSWD: ${RECEIVER}\n`,
    ],
    ...(node.os === "alpine"
      ? [
          [
            OPENRC_WG_START,
            `#!/bin/sh\n${header(node, "WireGuard at boot")}\nwg-quick up ${node.wireguard.interface}\n`,
          ] as [string, string],
          [OPENRC_BOOT_ROLLBACK, renderBootRollbackOpenrc(node)] as [string, string],
        ]
      : [[`systemd/${BOOT_ROLLBACK}.service`, renderBootRollbackUnit(node)] as [string, string]]),
  ];
}
