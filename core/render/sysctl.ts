// Kernel settings the mesh needs. A hub forwards between peers (the firewall's forward
// chain decides what). A node whose sshd binds only the mesh address may start sshd before
// wg0 exists; non-local bind lets it start anyway instead of failing at boot.
import type { NodeModel } from "../plan/model";
import { header } from "./header";

export function sysctlSettings(node: NodeModel): [string, number][] {
  return [
    ...(node.wireguard.forwarding ? ([["net.ipv4.ip_forward", 1]] as [string, number][]) : []),
    ...(node.ssh.listenAddresses.length > 0 || node.ollama !== null
      ? ([["net.ipv4.ip_nonlocal_bind", 1]] as [string, number][])
      : []),
  ];
}

export function renderSysctl(node: NodeModel): string {
  const lines = sysctlSettings(node).map(([k, v]) => `${k} = ${v}`);
  return `${header(node, "Kernel settings")}\n${lines.join("\n")}${lines.length ? "\n" : ""}`;
}
