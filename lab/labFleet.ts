// A stack's lab twin: the same fleet, with lab addresses and keys made for the lab. Nodes run
// the generic-Linux bundle whatever their os (the lab machine is Debian), so the lab rehearses
// the mesh, sshd, the firewall and the push — not an OS's packaging.
import { randomBytes } from "node:crypto";
import type { Fleet, FleetNode, Peer, PublicAddress } from "../core/fleet/fleet";
import { sourcesOf } from "../core/fleet/selectors";
import type { Deployment } from "../core/plan/deployment";
import { sshHostKeyFromSeed, wireguardPublicKey, type SshHostKey } from "../core/crypto/keys";
import { labAddress, OPERATOR_IP } from "./network";

export interface WgKeys {
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface LabNode {
  readonly spec: FleetNode;
  readonly index: number;
  /** The node's own public address; null behind NAT. */
  readonly publicIp: string | null;
  readonly wg: WgKeys;
  readonly hostKey: SshHostKey;
}

export interface LabPeer {
  readonly spec: Peer;
  readonly index: number;
  readonly publicIp: string;
  readonly wg: WgKeys;
}

export interface LabFleet {
  readonly original: Fleet;
  /** The fleet as the lab runs it: lab addresses and keys. */
  readonly fleet: Fleet;
  readonly deployment: Deployment;
  readonly nodes: readonly LabNode[];
  readonly peers: readonly LabPeer[];
  /** The operator's SSH identity (also its key in the nodes' authorized_keys). */
  readonly operatorKey: SshHostKey;
  /** The peer the operator's machine is, when ssh.allowFrom names one; else it uses the internet. */
  readonly operatorPeer: string | undefined;
}

function wgKeys(): WgKeys {
  const privateKey = randomBytes(32).toString("base64");
  return { privateKey, publicKey: wireguardPublicKey(privateKey) };
}

export function labFleet(original: Fleet, operatorKeyFile: string): LabFleet {
  const nodes = original.nodes.map((spec, index): LabNode => ({
    spec,
    index,
    publicIp: spec.address.kind === "nat" ? null : labAddress("node", index),
    wg: wgKeys(),
    hostKey: sshHostKeyFromSeed(randomBytes(32).toString("base64"), `lab-${spec.name}`),
  }));
  const peers = original.peers.map((spec, index): LabPeer => ({
    spec,
    index,
    publicIp: labAddress("peer", index),
    wg: wgKeys(),
  }));
  const operatorKey = sshHostKeyFromSeed(randomBytes(32).toString("base64"), "lab-operator");
  const byName = new Map(nodes.map((n) => [n.spec.name, n]));
  const peerByName = new Map(peers.map((p) => [p.spec.name, p]));

  const address = (n: LabNode): PublicAddress =>
    n.spec.address.kind === "static" ? { kind: "static", ip: n.publicIp ?? "" } : n.spec.address;
  const fleet: Fleet = {
    ...original,
    ssh: {
      ...original.ssh,
      authorizedKeys: [`${operatorKey.publicKey} lab-operator`],
      identityFile: operatorKeyFile,
      // First contact comes from the lab operator's machine, as it would from the real one's.
      firstContactFrom: [`${OPERATOR_IP}/32`],
    },
    nodes: nodes.map((n) => ({
      ...n.spec,
      os: "debian",
      address: address(n),
      sshHostKey: n.hostKey.publicKey,
    })),
    peers: original.peers.map((p) => ({
      ...p,
      publicKey: peerByName.get(p.name)?.wg.publicKey ?? "",
    })),
  };
  const deployment: Deployment = {
    publicKeyOf: (name) => byName.get(name)?.wg.publicKey ?? "",
    cloudIpOf: (name) => byName.get(name)?.publicIp ?? "",
  };
  const operatorPeer = sourcesOf(original.ssh.allowFrom, original.nodes, original.peers).find(
    (s) => s.kind === "peer",
  )?.name;
  return { original, fleet, deployment, nodes, peers, operatorKey, operatorPeer };
}
