// planFleet: a validated fleet and its deployment facts in, one NodeModel per node out.
import type { Fleet, FleetNode } from "../fleet/fleet";
import { publicIpOf, type Deployment } from "./deployment";
import { meshAccessFor, planFirewall } from "./firewall";
import { planK3s } from "./k3s";
import { planSysctl } from "./kernel";
import { planHardening, planOllama, planVault } from "./roles";
import type { FleetPlan, NixosPlan, NodeModel } from "./model";
import { planSshd } from "./sshd";
import { planWireGuard } from "./wireguard";

export function planFleet(fleet: Fleet, deployment: Deployment): FleetPlan {
  return {
    mesh: { ...fleet.mesh },
    nodes: fleet.nodes.map((node) => planNode(fleet, node, deployment)),
  };
}

export function planNode(fleet: Fleet, node: FleetNode, deployment: Deployment): NodeModel {
  const publicIp = publicIpOf(node, deployment);
  const wireguard = planWireGuard(fleet, node, deployment, (n) => meshAccessFor(fleet, n));
  const ssh = planSshd(fleet, node);
  const ollama = planOllama(node, node.meshIp);
  return {
    name: node.name,
    mesh: { name: fleet.mesh.name, cidr: fleet.mesh.cidr, topology: fleet.mesh.topology },
    provider: node.provider,
    region: node.region,
    os: node.os,
    roles: node.roles,
    meshIp: node.meshIp,
    publicIp,
    dnsName: node.dnsName ?? null,
    wireguard,
    ssh,
    firewall: planFirewall(fleet, node),
    ollama,
    vault: planVault(node.vault, node.meshIp),
    k3s: planK3s(fleet, node, publicIp),
    hardening: planHardening(fleet, node),
    sysctl: planSysctl(wireguard, ssh, ollama),
    nixos: planNixos(fleet, node),
  };
}

function planNixos(fleet: Fleet, node: FleetNode): NixosPlan | null {
  if (node.os !== "nixos") return null;
  // validateFleet refuses a fleet with NixOS nodes and no pin; this guards hand-built fleets.
  if (!fleet.nixpkgs) throw new Error(`${node.name} runs NixOS, but the fleet pins no nixpkgs`);
  return { stateVersion: node.nixosStateVersion, nixpkgs: fleet.nixpkgs };
}
