// wg-quick's wg0.conf. The private key is never in it: PostUp loads it from a mode-0600 file,
// so this file and every bundle that carries it hold no secret.
import type { NodeModel } from "../plan/model";
import { header } from "./header";

export function renderWgQuick(node: NodeModel): string {
  const wg = node.wireguard;
  const lines = [
    header(node, `WireGuard interface ${wg.interface}`),
    "",
    "[Interface]",
    `Address = ${wg.address}`,
    `ListenPort = ${wg.listenPort}`,
    `PostUp = wg set %i private-key ${wg.privateKeyFile}`,
  ];
  for (const peer of wg.peers) {
    lines.push(
      "",
      "[Peer]",
      `# ${peer.name}`,
      `PublicKey = ${peer.publicKey}`,
      `AllowedIPs = ${peer.allowedIps.join(", ")}`,
      ...(peer.endpoint ? [`Endpoint = ${peer.endpoint}`] : []),
      ...(peer.persistentKeepalive ? [`PersistentKeepalive = ${peer.persistentKeepalive}`] : []),
    );
  }
  return `${lines.join("\n")}\n`;
}
