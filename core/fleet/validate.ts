// validateFleet: raw stack config in, a Fleet out, or one error listing every problem.
// Sections are parsed separately so that a broken node does not hide problems elsewhere.
import { z } from "zod";
import { TOPOLOGIES, type Topology } from "./catalog";
import {
  checkFirstContact,
  checkManageable,
  checkPeer,
  checkRule,
  checkSsh,
  checkSshPlacement,
  type Names,
} from "./checkAccess";
import {
  checkDnsNames,
  checkK3sMembership,
  checkReachability,
  checkTopology,
  checkUnique,
  type Member,
} from "./checkFleet";
import { checkMeshIp, checkNode } from "./checkNodes";
import { checkNixpkgs, checkStateVersion, reportMissingPin } from "./checkNixpkgs";
import { publicSsh, type AccessRule, type Fleet, type FleetNode, type Peer } from "./fleet";
import { contains, parseCidr, parseIpv4, type Cidr } from "../net/ipv4";
import { FleetValidationError, fromZodIssues, type Problem } from "./problems";
import { DNS_LABEL_FIX, isDnsLabel, isDomainName, Report } from "./report";
import {
  accessRuleSchema,
  dnsSchema,
  fleetShape,
  meshSchema,
  nixpkgsSchema,
  nodeSchema,
  peerSchema,
  sshSchema,
} from "./schema";
import { destinationsOf, sourcesOf } from "./selectors";
import { rotationProblems } from "../plan/rotation";

export function validateFleet(raw: unknown): Fleet {
  const problems = collectProblems(raw);
  if (problems.problems.length > 0) throw new FleetValidationError(problems.problems);
  return problems.fleet as Fleet;
}

/** Like validateFleet, but returns the problems instead of throwing. */
export function collectProblems(raw: unknown): { problems: Problem[]; fleet?: Fleet } {
  const r = new Report();
  const top = section(r, "fleet", fleetShape, raw ?? undefined);
  if (!top) return { problems: r.problems };

  const mesh = section(r, "fleet.mesh", meshSchema, top.mesh);
  const ssh = section(r, "fleet.ssh", sshSchema, top.ssh);
  const dns = top.dns === undefined ? undefined : section(r, "fleet.dns", dnsSchema, top.dns);
  const nixpkgsInput =
    top.nixpkgs === undefined ? undefined : section(r, "fleet.nixpkgs", nixpkgsSchema, top.nixpkgs);
  const rawNodes = top.nodes.map((n, i) => ({
    path: `fleet.nodes[${i}]`,
    input: section(r, `fleet.nodes[${i}]`, nodeSchema, n),
  }));
  const rawPeers = top.peers.map((p, i) => ({
    path: `fleet.peers[${i}]`,
    input: section(r, `fleet.peers[${i}]`, peerSchema, p),
  }));
  const rawRules = top.access.map((a, i) => ({
    path: `fleet.access[${i}]`,
    input: section(r, `fleet.access[${i}]`, accessRuleSchema, a),
  }));

  const topology = mesh ? checkMesh(r, mesh) : undefined;
  const cidr = mesh ? parseCidr(mesh.cidr) : undefined;
  dns?.zones.forEach((zone, i) => {
    if (!isDomainName(zone)) {
      r.add(`fleet.dns.zones[${i}]`, zone, "is not a domain name", 'write it like "clavitor.com"');
    }
  });
  if (top.nodes.length === 0) r.add("fleet.nodes", [], "is empty", "describe at least one node");

  const nodeCtx = {
    ...(cidr && { cidr }),
    zones: dns?.zones ?? [],
    sshPort: ssh?.port ?? 22,
  };
  const nodes: { path: string; node: FleetNode }[] = [];
  const members: Member[] = [];
  for (const { path, input } of rawNodes) {
    if (!input) continue;
    const node = checkNode(r, path, input, nodeCtx);
    if (node) nodes.push({ path, node });
    const ip = node ? parseIpv4(node.meshIp) : quietMeshIp(input, cidr);
    members.push({ path, name: input.name, ...(ip !== undefined && { meshIp: ip }) });
  }
  const nixpkgs = nixpkgsInput && checkNixpkgs(r, nixpkgsInput);
  const nixosNodes = rawNodes.filter(({ input }) => input?.os === "nixos").length;
  if (top.nixpkgs === undefined && nixosNodes > 0) reportMissingPin(r, nixosNodes);
  if (nixpkgs) {
    for (const { path, node } of nodes) {
      if (node.os === "nixos") checkStateVersion(r, path, node.nixosStateVersion, nixpkgs);
    }
  }
  const peers: Peer[] = [];
  for (const { path, input } of rawPeers) {
    if (!input) continue;
    const peer = checkPeer(r, path, input, cidr);
    if (peer) peers.push(peer);
    const ip = peer ? parseIpv4(peer.meshIp) : undefined;
    members.push({ path, name: input.name, ...(ip !== undefined && { meshIp: ip }) });
  }
  checkUnique(r, members);
  checkFormerNames(r, rawNodes, members);

  const rolesRaw = rawNodes.flatMap(({ path, input }) =>
    input ? [{ path, roles: input.roles, ...(input.k3s && { k3s: input.k3s }) }] : [],
  );
  if (topology) checkTopology(r, topology, rolesRaw);
  checkK3sMembership(r, rolesRaw);
  checkDnsNames(r, nodes);

  const names: Names = {
    nodes: new Set(rawNodes.flatMap(({ input }) => (input ? [input.name] : []))),
    peers: new Set(rawPeers.flatMap(({ input }) => (input ? [input.name] : []))),
    groups: new Set(rawPeers.flatMap(({ input }) => (input ? [input.group] : []))),
    roles: new Set(rolesRaw.flatMap(({ roles }) => roles)),
  };
  const access: AccessRule[] = [];
  for (const { path, input } of rawRules) {
    const rule = input ? checkRule(r, path, input, names) : undefined;
    if (rule) access.push(rule);
  }
  checkLeavingNamed(
    r,
    rawRules,
    new Set(nodes.filter(({ node }) => node.decommission).map(({ node }) => node.name)),
  );
  const allowFrom = ssh ? checkSsh(r, ssh, names) : [];
  if (ssh && mesh) {
    checkSshPlacement(r, ssh, { ...(cidr && { cidr }), listenPort: mesh.listenPort }, rawRules);
  }
  if (ssh) checkFirstContact(r, nodes, ssh.firstContactFrom);
  if (ssh && mesh) {
    checkManageable(r, nodes, allowFrom, peers, (n) => publicSsh(n, ssh.port));
  }
  if (topology && r.problems.length === 0) {
    const validNodes = nodes.map(({ node }) => node);
    const hasEntry = validNodes.some((n) => n.roles.includes("entry"));
    const sshFromPeers =
      !hasEntry && sourcesOf(allowFrom, validNodes, peers).some((s) => s.kind === "peer");
    checkReachability(
      r,
      topology,
      nodes,
      peers,
      access,
      sshFromPeers,
      (rule) => destinationsOf(rule.to, validNodes),
      (rule) => sourcesOf(rule.from, validNodes, peers).map((s) => s.name),
    );
  }
  if (r.problems.length > 0 || !mesh || !ssh || !topology) return { problems: r.problems };

  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  const fleet: Fleet = {
    mesh: { name: mesh.name, cidr: mesh.cidr, listenPort: mesh.listenPort, topology },
    ssh: {
      adminUser: ssh.adminUser,
      port: ssh.port,
      authorizedKeys: ssh.authorizedKeys,
      breakGlassCidrs: [...ssh.breakGlassCidrs].sort(),
      firstContactFrom: [...ssh.firstContactFrom].sort(),
      allowFrom,
      identityFile: ssh.identityFile,
    },
    ...(dns && { dns: { zones: [...dns.zones].sort() } }),
    ...(nixpkgs && { nixpkgs }),
    nodes: nodes
      .map(({ node }) => node)
      .filter((n) => !n.decommission)
      .sort(byName),
    leaving: nodes
      .map(({ node }) => node)
      .filter((n) => n.decommission)
      .sort(byName),
    peers: peers.sort(byName),
    access,
  };
  // Rotations need the whole fleet: who reaches whom through whom.
  for (const p of rotationProblems(fleet)) {
    const path = nodes.find(({ node }) => node === p.node)?.path ?? "fleet.nodes";
    r.add(`${path}.wireguardKeyGeneration`, p.node.wireguardKeyGeneration, p.message, p.fix);
  }
  if (r.problems.length > 0) return { problems: r.problems };
  return { problems: [], fleet };
}

function checkMesh(r: Report, mesh: z.infer<typeof meshSchema>): Topology | undefined {
  if (!isDnsLabel(mesh.name))
    r.add("fleet.mesh.name", mesh.name, "is not a DNS label", DNS_LABEL_FIX);
  const cidr = parseCidr(mesh.cidr);
  if (!cidr) {
    r.add(
      "fleet.mesh.cidr",
      mesh.cidr,
      "is not a network in CIDR form",
      "write it like 10.84.0.0/24, with the host bits zero",
    );
  } else if (cidr.prefix < 8 || cidr.prefix > 30) {
    r.add("fleet.mesh.cidr", mesh.cidr, "is too large or too small", "use a prefix from /8 to /30");
  } else if (!isPrivate(cidr)) {
    r.add(
      "fleet.mesh.cidr",
      mesh.cidr,
      "is not private address space, so mesh routes would hide real internet hosts",
      "use a range inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10",
    );
  }
  r.port("fleet.mesh.listenPort", mesh.listenPort);
  return r.oneOf("fleet.mesh.topology", mesh.topology, TOPOLOGIES, "topology")
    ? mesh.topology
    : undefined;
}

const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(
  (text) => parseCidr(text) as Cidr,
);

function isPrivate(cidr: Cidr): boolean {
  return PRIVATE.some((range) => range.prefix <= cidr.prefix && contains(range, cidr.network));
}

/** A rule that names a leaving node would name a node the mesh no longer has. */
function checkLeavingNamed(
  r: Report,
  rules: readonly { path: string; input: { from: string[]; to: string[] } | undefined }[],
  leaving: ReadonlySet<string>,
): void {
  for (const { path, input } of rules) {
    for (const side of ["from", "to"] as const) {
      (input?.[side] ?? []).forEach((selector, i) => {
        const name = selector.startsWith("node:") ? selector.slice(5) : undefined;
        if (name && leaving.has(name)) {
          r.add(
            `${path}.${side}[${i}]`,
            selector,
            `names ${name}, which is leaving the mesh (decommission)`,
            "take it out of the rule",
          );
        }
      });
    }
  }
}

/**
 * A former name must be free: a node or peer still named so would share its resources' names
 * with the renamed node, and two nodes renamed from one name would both claim its server.
 */
function checkFormerNames(
  r: Report,
  nodes: readonly { path: string; input: { name: string; formerName?: string } | undefined }[],
  members: readonly Member[],
): void {
  const seen = new Map<string, string>();
  for (const { path, input } of nodes) {
    const former = input?.formerName;
    if (former === undefined || former === input?.name) continue;
    const holder = members.find((m) => m.name === former);
    const twice = seen.get(former);
    if (holder || twice) {
      r.add(
        `${path}.formerName`,
        former,
        holder ? `is the name of ${holder.path}` : `is the formerName of ${twice} too`,
        "a former name must belong to no node or peer now; rename one step at a time",
      );
    }
    seen.set(former, path);
  }
}

/** The mesh IP of a node whose other fields failed, so duplicates are still found. */
function quietMeshIp(
  input: { meshIp?: string; id?: number },
  cidr: Cidr | undefined,
): number | undefined {
  const scratch = new Report();
  return checkMeshIp(scratch, "", input, cidr);
}

function section<T extends z.ZodType>(
  r: Report,
  path: string,
  schema: T,
  raw: unknown,
): z.infer<T> | undefined {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  r.problems.push(
    ...fromZodIssues(path, raw, result.error.issues, (segments) => keysAt(schema, segments)),
  );
  return undefined;
}

/** The field names a schema accepts at a path, for "did you mean" on unknown keys. */
function keysAt(schema: z.ZodType, segments: readonly PropertyKey[]): string[] {
  let here: z.ZodType | undefined = unwrap(schema);
  for (const s of segments) {
    if (!here) return [];
    if (typeof s === "number" && here instanceof z.ZodArray)
      here = unwrap(here.element as z.ZodType);
    else if (here instanceof z.ZodObject) here = unwrap(here.shape[String(s)] as z.ZodType);
    else return [];
  }
  return here instanceof z.ZodObject ? Object.keys(here.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let here = schema;
  while (
    here instanceof z.ZodOptional ||
    here instanceof z.ZodDefault ||
    here instanceof z.ZodNullable
  ) {
    here = here.def.innerType as z.ZodType;
  }
  return here;
}
