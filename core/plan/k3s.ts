// k3s over the mesh (seed 003's flags, plus what running over WireGuard needs): the node IP
// and flannel's interface are the mesh ones, and agents join the server's mesh address.
import { K3S_API_PORT, WG_INTERFACE } from "../fleet/catalog";
import type { Fleet, FleetNode } from "../fleet/fleet";
import type { K3sPlan } from "./model";

export const K3S_TOKEN_FILE = "/etc/clawd-mesh/k3s-token";

export function planK3s(fleet: Fleet, node: FleetNode, publicIp: string | null): K3sPlan | null {
  const isServer = node.roles.includes("k3s-server");
  if (!isServer && !node.roles.includes("k3s-agent")) return null;
  const server = fleet.nodes.find((n) => n.roles.includes("k3s-server"));
  if (!server?.k3s) return null; // validation guarantees a server with settings
  const k = server.k3s;
  const common = [
    `--node-ip=${node.meshIp}`,
    `--flannel-iface=${WG_INTERFACE}`,
    ...(isServer ? k.nodeLabels : []).map((label) => `--node-label=${label}`),
  ];
  if (!isServer) {
    return {
      role: "agent",
      serverIp: server.meshIp,
      tokenFile: K3S_TOKEN_FILE,
      flags: common,
      snapshotSchedule: null,
      ingressHosts: [],
    };
  }
  const sans = [
    node.meshIp,
    ...(publicIp ? [publicIp] : []),
    ...(node.dnsName ? [node.dnsName] : []),
    ...k.tlsSans,
  ];
  return {
    role: "server",
    serverIp: node.meshIp,
    tokenFile: K3S_TOKEN_FILE,
    flags: [
      ...common,
      `--advertise-address=${node.meshIp}`,
      ...[...new Set(sans)].map((san) => `--tls-san=${san}`),
      `--cluster-cidr=${k.clusterCidr}`,
      `--service-cidr=${k.serviceCidr}`,
      ...k.disable.map((component) => `--disable=${component}`),
      `--flannel-backend=${k.flannelBackend}`,
      `--write-kubeconfig-mode=${k.writeKubeconfigMode}`,
    ],
    snapshotSchedule: k.snapshotSchedule,
    ingressHosts: k.ingressHosts,
  };
}

export function apiEndpoint(serverIp: string): string {
  return `https://${serverIp}:${K3S_API_PORT}`;
}
