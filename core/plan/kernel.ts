// Kernel settings the mesh needs. A hub forwards between peers (the firewall's forward
// chain decides what). A service bound only to the mesh address (sshd, Ollama) may start
// before wg0 has it; non-local bind lets it start anyway instead of failing at boot.
import type { OllamaPlan } from "./roles";
import type { SshdPlan, WireGuardPlan } from "./model";

export function planSysctl(
  wireguard: WireGuardPlan,
  ssh: SshdPlan,
  ollama: OllamaPlan | null,
): [string, number][] {
  const settings: [string, number][] = [];
  if (wireguard.forwarding) settings.push(["net.ipv4.ip_forward", 1]);
  if (ssh.listenAddresses.length > 0 || ollama !== null) {
    settings.push(["net.ipv4.ip_nonlocal_bind", 1]);
  }
  return settings;
}
