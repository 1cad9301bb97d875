// A stack's lab twin: the stack file's fleet as the lab's engine runs it, with what only the
// lab can know in place of what only the real fleet knows — the addresses and host keys of
// existing hosts, the peers' WireGuard keys, the operator's key and network, the vault binary.
// What the lab assigns is kept (twin.json, mode 0600) so an edited stack file keeps every
// assignment it still names, and a name it adds gets new ones.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sshHostKeyFromSeed, wireguardPublicKey, type SshHostKey } from "../core/crypto/keys";
import { labAddress, OPERATOR_IP } from "./network";
import { LAB_ROOT } from "./state";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawFleet = Record<string, any>;

export interface WgKeys {
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface ExistingHost {
  readonly index: number;
  /** Its public address in the lab, or null behind NAT (then reached through `router`). */
  readonly address: string | null;
  readonly router?: string;
  readonly hostKey: SshHostKey;
}

export interface LabPeer {
  readonly index: number;
  readonly address: string;
  readonly wg: WgKeys;
}

/** Everything the lab assigned, by name. */
export interface Assignments {
  readonly operatorKey: SshHostKey;
  readonly existing: Record<string, ExistingHost>;
  readonly peers: Record<string, LabPeer>;
  /** The stand-in vault binary's path and digest, when the fleet has vault nodes. */
  vault?: { readonly path: string; readonly sha256: string };
}

const FILE = join(LAB_ROOT, "twin.json");
/** A fleet given to the lab instead of the stack file's (a test's edit), and whether twinned. */
const FLEET = join(LAB_ROOT, "fleet.json");

export interface FleetOverride {
  readonly fleet: RawFleet;
  /** Already the lab's twin (keys and addresses as the test wants them): used as it is. */
  readonly twinned: boolean;
}

export function saveOverride(o: FleetOverride | undefined): void {
  if (o) writeFileSync(FLEET, `${JSON.stringify(o, null, 2)}\n`, { mode: 0o600 });
  else if (existsSync(FLEET)) writeFileSync(FLEET, "");
}

export function loadOverride(): FleetOverride | undefined {
  if (!existsSync(FLEET)) return undefined;
  const text = readFileSync(FLEET, "utf8");
  return text ? (JSON.parse(text) as FleetOverride) : undefined;
}

function wgKeys(): WgKeys {
  const privateKey = randomBytes(32).toString("base64");
  return { privateKey, publicKey: wireguardPublicKey(privateKey) };
}

export function loadAssignments(): Assignments {
  if (existsSync(FILE)) return JSON.parse(readFileSync(FILE, "utf8")) as Assignments;
  return {
    operatorKey: sshHostKeyFromSeed(randomBytes(32).toString("base64"), "lab-operator"),
    existing: {},
    peers: {},
  };
}

export function saveAssignments(a: Assignments): void {
  writeFileSync(FILE, `${JSON.stringify(a, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Gives every existing host and peer the stack names an assignment (keeping earlier ones), and
 * returns the new ones: hosts the lab must now make, as their owner left them.
 */
export function assign(raw: RawFleet, a: Assignments): { hosts: string[]; peers: string[] } {
  const next = (used: { index: number }[]) => Math.max(-1, ...used.map((u) => u.index)) + 1;
  const hosts: string[] = [];
  for (const node of raw.nodes as RawFleet[]) {
    if (node.provider !== "existing" || a.existing[node.name]) continue;
    const index = next(Object.values(a.existing));
    const nat = node.publicIp === null;
    a.existing[node.name] = {
      index,
      address: nat ? null : labAddress("node", index),
      ...(nat && { router: labAddress("router", index) }),
      hostKey: sshHostKeyFromSeed(randomBytes(32).toString("base64"), `lab-${node.name}`),
    };
    hosts.push(node.name);
  }
  const peers: string[] = [];
  for (const peer of (raw.peers ?? []) as RawFleet[]) {
    if (a.peers[peer.name]) continue;
    const index = next(Object.values(a.peers));
    a.peers[peer.name] = { index, address: labAddress("peer", index), wg: wgKeys() };
    peers.push(peer.name);
  }
  return { hosts, peers };
}

/**
 * The fleet the lab's engine runs. Every node runs the generic-Linux bundle (this machine is
 * Debian), first contact comes from the lab operator's address, and a host behind NAT is first
 * reached through its router's forward, standing in for the console or LAN it is set up from.
 */
export function twinFleet(raw: RawFleet, a: Assignments): RawFleet {
  const sshPort = raw.ssh?.port ?? 22;
  return {
    ...raw,
    ssh: {
      ...raw.ssh,
      authorizedKeys: [`${a.operatorKey.publicKey} lab-operator`],
      firstContactFrom: [`${OPERATOR_IP}/32`],
    },
    nodes: (raw.nodes as RawFleet[]).map((node) => {
      const twin: RawFleet = { ...node, os: "debian" };
      delete twin.nixosStateVersion;
      const existing = a.existing[node.name];
      if (existing) {
        twin.sshHostKey = existing.hostKey.publicKey;
        twin.publicIp = existing.address;
        if (existing.router) twin.firstContactAddress = `${existing.router}:${sshPort}`;
      }
      if (node.vault && a.vault) {
        twin.vault = { ...node.vault, binaryUrl: a.vault.path, binarySha256: a.vault.sha256 };
      }
      return twin;
    }),
    peers: ((raw.peers ?? []) as RawFleet[]).map((p) => ({
      ...p,
      publicKey: a.peers[p.name]?.wg.publicKey ?? p.publicKey,
    })),
  };
}
