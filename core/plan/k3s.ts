// k3s over the mesh (seed 003's flags, plus what running over WireGuard needs): the node IP
// and flannel's interface are the mesh ones, and agents join the server's mesh address.
import { K3S_API_PORT, WG_INTERFACE } from "../fleet/catalog";
import type { Fleet, FleetNode } from "../fleet/fleet";
import type { K3sPlan, K3sValue } from "./model";

export const K3S_TOKEN_FILE = "/etc/clawd-mesh/k3s-token";
/** k3s's own state, where it records the server token it runs with (k3s's default). */
export const K3S_DATA_DIR = "/var/lib/rancher/k3s";

export function planK3s(fleet: Fleet, node: FleetNode, publicIp: string | null): K3sPlan | null {
  const isServer = node.roles.includes("k3s-server");
  if (!isServer && !node.roles.includes("k3s-agent")) return null;
  const server = fleet.nodes.find((n) => n.roles.includes("k3s-server"));
  if (!server?.k3s) return null; // validation guarantees a server with settings
  const k = server.k3s;
  const common: [string, K3sValue][] = [
    ["node-ip", node.meshIp],
    ["flannel-iface", WG_INTERFACE],
  ];
  if (!isServer) {
    return {
      role: "agent",
      serverUrl: apiEndpoint(server.meshIp),
      tokenFile: K3S_TOKEN_FILE,
      settings: common,
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
  const settings: [string, K3sValue][] = [
    ...common,
    ["node-label", k.nodeLabels],
    ["advertise-address", node.meshIp],
    ["tls-san", [...new Set(sans)]],
    ["cluster-cidr", k.clusterCidr],
    ["service-cidr", k.serviceCidr],
    ["disable", k.disable],
    ["flannel-backend", k.flannelBackend],
    ["write-kubeconfig-mode", k.writeKubeconfigMode],
  ];
  return {
    role: "server",
    serverUrl: null,
    tokenFile: K3S_TOKEN_FILE,
    // An empty list is no flag at all.
    settings: settings.filter(([, v]) => typeof v === "string" || v.length > 0),
    snapshotSchedule: k.snapshotSchedule,
    ingressHosts: k.ingressHosts,
  };
}

export function apiEndpoint(serverIp: string): string {
  return `https://${serverIp}:${K3S_API_PORT}`;
}
