// A complete sshd_config. Nothing from /etc/ssh/sshd_config.d is included on purpose: cloud
// images put drop-ins there (Ubuntu's 50-cloud-init.conf says PasswordAuthentication yes), and
// a drop-in's Match block could loosen any setting. What this file says is what sshd does.
import type { NodeModel, SshValue } from "../plan/model";
import { header } from "./header";

/** Where the admin's keys live: root-owned, so a compromised account cannot add keys. */
export const AUTHORIZED_KEYS_DIR = "/etc/ssh/authorized_keys.d";

const SPACE_SEPARATED = new Set(["AllowUsers", "AllowGroups", "DenyUsers", "DenyGroups"]);

/** The same value spelling NixOS's openssh module uses, so both renderings agree. */
export function sshValue(key: string, value: SshValue): string {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return value;
  return value.join(SPACE_SEPARATED.has(key) ? " " : ",");
}

/** `bootstrap`: the first-contact variant, listening everywhere until the mesh is proven. */
export function renderSshdConfig(node: NodeModel, variant: { bootstrap?: boolean } = {}): string {
  const ssh = node.ssh;
  const lines = [
    header(node, "sshd configuration"),
    "# Complete on purpose: drop-ins in /etc/ssh/sshd_config.d are not read.",
    "",
    `Port ${ssh.port}`,
    ...(variant.bootstrap ? [] : ssh.listenAddresses.map((a) => `ListenAddress ${a}`)),
    `HostKey ${ssh.hostKey}`,
    `AuthorizedKeysFile ${AUTHORIZED_KEYS_DIR}/%u`,
    // Debian and Ubuntu need PAM for account and session setup; Alpine's sshd has no PAM.
    ...(node.os === "alpine" ? [] : ["UsePAM yes"]),
    ...ssh.settings.map(([key, value]) => `${key} ${sshValue(key, value)}`),
    "Subsystem sftp internal-sftp",
  ];
  return `${lines.join("\n")}\n`;
}

export function renderAuthorizedKeys(node: NodeModel): string {
  return `${node.ssh.authorizedKeys.join("\n")}\n`;
}
