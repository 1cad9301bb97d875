// The reachability matrix: from the internet, from every node, from every operator and client
// peer, to every node — TCP 22, 80, 443, 6443, 11434 and ping over the mesh — compared with
// what fleet.json (the contract synth writes) says must be open.
import { join, resolve } from "node:path";
import { execAsync, parallel } from "./exec";
import type { Lab } from "./lab";
import { INTERNET_NETNS } from "./network";

export const TCP_PORTS = [22, 80, 443, 6443, 11434] as const;
export type Check = `tcp/${(typeof TCP_PORTS)[number]}` | "ping";

export interface Cell {
  readonly from: string;
  readonly to: string;
  readonly check: Check;
  readonly expected: boolean;
  readonly actual: boolean;
}

export interface Matrix {
  readonly sources: readonly string[];
  readonly targets: readonly string[];
  readonly cells: readonly Cell[];
  /** Cells that disagreed at first and agreed when tried again. */
  readonly settled: number;
}

interface ContractNode {
  name: string;
  meshIp: string;
  publicTcpPorts: number[];
  meshAccess: { from: string; tcpPorts: number[]; ping: boolean }[];
}

const TSX = resolve(__dirname, "..", "node_modules", ".bin", "tsx");
const AGENT = join(__dirname, "probeAgent.ts");

interface Source {
  readonly name: string;
  readonly netns: string;
  /** Over the mesh (a node or a peer), or from the internet. */
  readonly mesh: boolean;
  /** A peer machine: it has tunnels only to the nodes that list it. */
  readonly peer?: boolean;
  /** A peer the stack no longer names: it must reach nothing over the mesh. */
  readonly revoked?: boolean;
}

/**
 * Probes from the internet, every node and every peer to every node. What must be open comes
 * from fleet.json (the policy, as synth renders it for the lab's twin); where to probe, from the
 * program's last run (the addresses the clouds gave).
 */
export async function probeMatrix(lab: Lab): Promise<Matrix> {
  const contract = JSON.parse(lab.synthesis().files.get("fleet.json") ?? "{}") as {
    mesh: { topology: string };
    nodes: ContractNode[];
    peers: { name: string }[];
  };
  const facts = lab.facts();
  const publicIp = new Map(contract.nodes.map((n) => [n.name, facts.get(n.name)?.publicIpv4]));
  const sources: Source[] = [
    { name: "internet", netns: INTERNET_NETNS, mesh: false },
    ...contract.nodes.map((n) => ({
      name: n.name,
      netns: lab.nodeHost(n.name)?.netns ?? "",
      mesh: true,
    })),
    // Every peer machine the lab has, also one the stack no longer names (it was revoked).
    ...lab.peerNames().map((name) => ({
      name,
      netns: lab.peerHost(name)?.netns ?? "",
      mesh: true,
      peer: true,
      revoked: !(contract.peers ?? []).some((p) => p.name === name),
    })),
  ].filter((s) => s.netns);
  const rows = await parallel(sources, 6, async (source) => {
    const wanted: Wanted[] = [];
    for (const to of contract.nodes) {
      if (to.name === source.name) continue;
      // A peer reaches over the mesh the nodes it has a tunnel to (in hub-spoke, all, through
      // the hub); any other node it reaches as the internet does, at its public address. A
      // revoked peer is tried over the mesh: that is what must be closed to it.
      const tunnelled =
        !source.peer ||
        source.revoked === true ||
        contract.mesh.topology === "hub-spoke" ||
        to.meshAccess.some((a) => a.from === source.name);
      const via: Source = { ...source, mesh: source.mesh && tunnelled };
      const host = via.mesh ? to.meshIp : publicIp.get(to.name);
      if (!host) continue; // behind NAT: nothing on the internet can address it
      for (const port of TCP_PORTS) wanted.push({ to, via, check: `tcp/${port}`, host, port });
      if (via.mesh) wanted.push({ to, via, check: "ping", host });
    }
    const results = await probeFrom(source, wanted);
    return wanted.map((w, i): Probed => ({
      from: source.name,
      to: w.to.name,
      check: w.check,
      expected: expected(w.to, w.via, w.check),
      actual: results[i] ?? false,
      probe: w,
    }));
  });
  // A cell that disagrees is tried again, a few times within one WireGuard keepalive: a
  // tunnel to a host behind NAT can need the host's next keepalive after its peers re-sync.
  // What still disagrees then is a mismatch; what settled is counted, so it stays visible.
  let open = rows.flat().filter((c) => c.actual !== c.expected);
  const first = open.length;
  for (let round = 0; round < RETRY_ROUNDS && open.length > 0; round++) {
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
    const bySource = new Map<string, Probed[]>();
    for (const c of open) bySource.set(c.from, [...(bySource.get(c.from) ?? []), c]);
    await parallel([...bySource.values()], 6, async (cells) => {
      const results = await probeFrom(
        cells[0]!.probe.via,
        cells.map((c) => c.probe),
      );
      cells.forEach((c, i) => (c.actual = results[i] ?? false));
    });
    open = open.filter((c) => c.actual !== c.expected);
  }
  const cells = rows.flat().map(({ probe, ...cell }): Cell => {
    void probe;
    return cell;
  });
  return {
    sources: sources.map((s) => s.name),
    targets: contract.nodes.map((n) => n.name),
    cells,
    settled: first - open.length,
  };
}

/** A cell while it is probed: its answer may change when it is tried again. */
type Probed = Omit<Cell, "actual"> & { actual: boolean; probe: Wanted };

interface Wanted {
  readonly to: ContractNode;
  readonly via: Source;
  readonly check: Check;
  readonly host: string;
  readonly port?: number;
}

const RETRY_ROUNDS = 3;
const RETRY_PAUSE_MS = 8_000;

/** One probe agent in the source's namespace; true per reachable target. */
async function probeFrom(source: Source, wanted: readonly Wanted[]): Promise<boolean[]> {
  const ran = await execAsync("ip", ["netns", "exec", source.netns, TSX, AGENT], {
    input: JSON.stringify(wanted.map((w) => ({ host: w.host, port: w.port }))),
    timeoutMs: 60_000,
  });
  if (ran.status !== 0) throw new Error(`probes from ${source.name} failed: ${ran.stderr}`);
  return JSON.parse(ran.stdout) as boolean[];
}

function expected(to: ContractNode, source: Source, check: Check): boolean {
  if (source.revoked) return false;
  const port = check === "ping" ? undefined : Number(check.slice(4));
  const publicOpen = port !== undefined && to.publicTcpPorts.includes(port);
  if (!source.mesh) return publicOpen;
  const grant = to.meshAccess.find((a) => a.from === source.name);
  if (port === undefined) return grant?.ping ?? false;
  return publicOpen || (grant?.tcpPorts.includes(port) ?? false);
}

/** One line per source; per target "22 80 443 6443 11434 ping": + open, . closed, ! mismatch. */
export function printMatrix(m: Matrix, log: (line: string) => void): void {
  const width = Math.max(...m.sources.map((s) => s.length), 8);
  log(`reachability (per target: ${TCP_PORTS.join(" ")} ping; + open, . closed, X/x mismatch):`);
  log(`${"".padEnd(width)}  ${m.targets.map((t) => t.slice(0, 6).padEnd(6)).join(" ")}`);
  for (const source of m.sources) {
    const cells = m.targets.map((target) => {
      const row = m.cells.filter((c) => c.from === source && c.to === target);
      if (row.length === 0) return "-".padEnd(6);
      return row
        .map((c) => (c.actual === c.expected ? (c.actual ? "+" : ".") : c.actual ? "X" : "x"))
        .join("")
        .padEnd(6);
    });
    log(`${source.padEnd(width)}  ${cells.join(" ")}`);
  }
  for (const c of m.cells.filter((x) => x.actual !== x.expected)) {
    log(
      `  mismatch: ${c.from} -> ${c.to} ${c.check}: ${c.actual ? "open" : "closed"}, policy says ${c.expected ? "open" : "closed"}`,
    );
  }
}
