// Peers, selectors, access rules and SSH: who may reach what over the mesh. Default deny:
// whatever no rule names stays closed.
import {
  FLANNEL_VXLAN_PORT,
  K3S_API_PORT,
  KUBELET_PORT,
  OLLAMA_PORT,
  OLLAMA_USER,
  ROLES,
  VAULT_USER,
  WEB_PORTS,
} from "./catalog";
import type { AccessRule, FleetNode, Peer, Selector } from "./fleet";
import { formatCidr, formatIpv4, overlaps, parseCidr, type Cidr } from "../net/ipv4";
import { isReservedUser } from "./checkSafety";
import { checkMeshIp } from "./checkNodes";
import { DNS_LABEL_FIX, isDnsLabel, Report, uniqueSorted } from "./report";
import type { AccessRuleInput, PeerInput, SshInput } from "./schema";

export interface Names {
  readonly nodes: ReadonlySet<string>;
  readonly peers: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
}

export const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function checkPeer(
  r: Report,
  path: string,
  p: PeerInput,
  cidr: Cidr | undefined,
): Peer | undefined {
  const before = r.problems.length;
  if (!isDnsLabel(p.name)) r.add(`${path}.name`, p.name, "is not a DNS label", DNS_LABEL_FIX);
  if (!isDnsLabel(p.group)) r.add(`${path}.group`, p.group, "is not a DNS label", DNS_LABEL_FIX);
  if (!WG_KEY.test(p.publicKey)) {
    r.add(
      `${path}.publicKey`,
      p.publicKey,
      "is not a WireGuard public key",
      "paste the 44-character base64 key that `wg pubkey` prints on the peer",
    );
  }
  const ip = checkMeshIp(r, path, { meshIp: p.meshIp }, cidr);
  if (r.problems.length !== before || ip === undefined) return undefined;
  return { name: p.name, publicKey: p.publicKey, meshIp: formatIpv4(ip), group: p.group };
}

type Side = "from" | "to";

export function parseSelector(
  r: Report,
  path: string,
  text: string,
  side: Side,
  names: Names,
): Selector | undefined {
  if (text === "*") return { kind: "all" };
  const match = /^(group|peer|node|role):(.+)$/.exec(text);
  if (!match) {
    r.add(
      path,
      text,
      "is not a selector",
      'write "node:NAME", "role:ROLE", "group:GROUP", "peer:NAME" or "*"',
    );
    return undefined;
  }
  const kind = match[1] as "group" | "peer" | "node" | "role";
  const name = match[2] ?? "";
  if (side === "to" && (kind === "group" || kind === "peer")) {
    r.add(
      path,
      text,
      "names a peer as a destination, but peers are not firewalled by this program",
      'name nodes: "node:NAME", "role:ROLE" or "*"',
    );
    return undefined;
  }
  const known = {
    group: names.groups,
    peer: names.peers,
    node: names.nodes,
    role: names.roles,
  }[kind];
  if (!known.has(name)) {
    const what = kind === "role" && (ROLES as readonly string[]).includes(name) ? "held by" : "in";
    r.add(
      path,
      text,
      `names ${kind} "${name}", which is not ${what} this fleet`,
      known.size > 0
        ? `use one of: ${[...known].sort().join(", ")}`
        : `add a ${kind} named "${name}" first`,
    );
    return undefined;
  }
  return { kind, name };
}

export function checkRule(
  r: Report,
  path: string,
  rule: AccessRuleInput,
  names: Names,
): AccessRule | undefined {
  const before = r.problems.length;
  const parse = (side: Side) =>
    rule[side].flatMap((text, i) => {
      const s = parseSelector(r, `${path}.${side}[${i}]`, text, side, names);
      return s ? [s] : [];
    });
  const from = parse("from");
  const to = parse("to");
  if (rule.from.length === 0) r.add(`${path}.from`, [], "is empty", "name at least one source");
  if (rule.to.length === 0) r.add(`${path}.to`, [], "is empty", "name at least one node");
  rule.tcp.forEach((p, i) => r.port(`${path}.tcp[${i}]`, p));
  rule.udp.forEach((p, i) => r.port(`${path}.udp[${i}]`, p));
  if (rule.tcp.length === 0 && rule.udp.length === 0 && !rule.ping) {
    r.add(path, rule, "allows nothing", "list tcp or udp ports, or set ping: true");
  }
  if (r.problems.length !== before) return undefined;
  return {
    from,
    to,
    tcp: uniqueSorted(rule.tcp),
    udp: uniqueSorted(rule.udp),
    ping: rule.ping,
    ...(rule.description !== undefined && { description: rule.description }),
  };
}

const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SSH_KEY =
  /^(ssh-ed25519|sk-ssh-ed25519@openssh\.com|ecdsa-sha2-nistp(256|384|521)|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-rsa) [A-Za-z0-9+/]+=*( [^\n]*)?$/;

export function checkSsh(r: Report, ssh: SshInput, names: Names): Selector[] {
  if (!UNIX_USER.test(ssh.adminUser) || ssh.adminUser === "root") {
    r.add(
      "fleet.ssh.adminUser",
      ssh.adminUser,
      ssh.adminUser === "root" ? "is root, and root never logs in over SSH" : "is not a user name",
      'use a plain lowercase user name such as "boss"',
    );
  } else if (isReservedUser(ssh.adminUser, [VAULT_USER, OLLAMA_USER])) {
    r.add(
      "fleet.ssh.adminUser",
      ssh.adminUser,
      "is a system or service account: the operator's key would log in as it, with its files and processes",
      'use an account of the operator\'s own, such as "boss"',
    );
  }
  r.port("fleet.ssh.port", ssh.port);
  if (ssh.authorizedKeys.length === 0) {
    r.add("fleet.ssh.authorizedKeys", [], "is empty", "add the operator's public key");
  }
  ssh.authorizedKeys.forEach((key, i) => {
    if (!SSH_KEY.test(key)) {
      r.add(
        `fleet.ssh.authorizedKeys[${i}]`,
        key,
        "is not an OpenSSH public key line",
        "paste a line such as the content of ~/.ssh/id_ed25519.pub",
      );
    }
  });
  checkOperatorNetworks(r, "fleet.ssh.breakGlassCidrs", ssh.breakGlassCidrs);
  checkOperatorNetworks(r, "fleet.ssh.firstContactFrom", ssh.firstContactFrom);
  if (!/^[~/][^\s]*$/.test(ssh.identityFile)) {
    r.add("fleet.ssh.identityFile", ssh.identityFile, "is not a path", 'e.g. "~/.ssh/id_ed25519"');
  }
  return ssh.allowFrom.flatMap((text, i) => {
    const s = parseSelector(r, `fleet.ssh.allowFrom[${i}]`, text, "from", names);
    return s ? [s] : [];
  });
}

/** Ports the roles serve (TCP): sshd on one of them would answer whoever may reach the role. */
const ROLE_TCP_PORTS: readonly (readonly [number, string])[] = [
  ...WEB_PORTS.map((p) => [p, "the vault's and the k3s ingress' web port"] as const),
  [K3S_API_PORT, "the k3s API"],
  [KUBELET_PORT, "the kubelet"],
  [OLLAMA_PORT, "Ollama"],
];

/**
 * Where SSH may answer, against the rest of the fleet: its port is no other service's (an
 * access rule or a role opening that port would open SSH to its sources, clients included),
 * and break-glass networks are outside the mesh (every peer would be "break-glass").
 */
export function checkSshPlacement(
  r: Report,
  ssh: SshInput,
  mesh: { readonly cidr?: Cidr; readonly listenPort: number },
  rules: readonly { path: string; input?: AccessRuleInput }[],
): void {
  const clash =
    ROLE_TCP_PORTS.find(([p]) => p === ssh.port)?.[1] ??
    (ssh.port === mesh.listenPort ? "the mesh's WireGuard port (mesh.listenPort)" : undefined) ??
    (ssh.port === FLANNEL_VXLAN_PORT ? "flannel's VXLAN port" : undefined) ??
    rules.find(({ input }) => input?.tcp.includes(ssh.port))?.path.concat(".tcp");
  if (clash) {
    r.add(
      "fleet.ssh.port",
      ssh.port,
      `is also ${clash.startsWith("fleet.") ? `opened by ${clash}` : clash}, so whoever may reach that may reach sshd`,
      "give SSH a port of its own (22, or one such as 2222 that no role or rule uses); grant SSH with ssh.allowFrom",
    );
  }
  if (!mesh.cidr) return;
  ssh.breakGlassCidrs.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (cidr && mesh.cidr && overlaps(cidr, mesh.cidr)) {
      r.add(
        `fleet.ssh.breakGlassCidrs[${i}]`,
        text,
        `overlaps mesh.cidr ${formatCidr(mesh.cidr)}, so mesh peers (clients too) would reach sshd as break-glass`,
        "list the operator's public networks only; mesh sources get SSH through ssh.allowFrom",
      );
    }
  });
}

/** Public networks SSH is let in from: each a CIDR of /16 or narrower. */
function checkOperatorNetworks(r: Report, field: string, list: readonly string[]): void {
  list.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (!cidr) {
      r.add(`${field}[${i}]`, text, "is not a CIDR", "write it like 198.51.100.7/32");
    } else if (cidr.prefix < 16) {
      r.add(
        `${field}[${i}]`,
        text,
        "opens SSH to a large part of the internet",
        "name the operator's own address (/32) or a range of /16 or narrower",
      );
    }
  });
}

/**
 * Hosts the program creates are first reached over public SSH, and their provider firewall
 * lets SSH in only from the operator's networks: without them, first contact cannot happen.
 */
export function checkFirstContact(
  r: Report,
  nodes: readonly { path: string; node: FleetNode }[],
  firstContactFrom: readonly string[],
): void {
  const created = nodes
    .filter(({ node }) => node.provider !== "existing")
    .map(({ node }) => node.name);
  if (created.length > 0 && firstContactFrom.length === 0) {
    r.add(
      "fleet.ssh.firstContactFrom",
      [],
      `is empty, but ${created.join(", ")} ${created.length === 1 ? "is" : "are"} created by the program and first reached over public SSH, which the provider firewall lets in only from these networks`,
      'list the public address(es) the operator\'s machine or CI runner connects from, such as "198.51.100.7/32"',
    );
  }
}

/**
 * A node nobody can SSH into cannot be configured, and a push to it would lock it out for
 * good. Each node needs public SSH, an entry node to jump through, or a mesh source in
 * ssh.allowFrom.
 */
export function checkManageable(
  r: Report,
  nodes: readonly { path: string; node: FleetNode }[],
  allowFrom: readonly Selector[],
  peers: readonly Peer[],
  publicSsh: (node: FleetNode) => boolean,
): void {
  const hasEntry = nodes.some(({ node }) => node.roles.includes("entry"));
  const operatorSources = allowFrom.some((s) =>
    s.kind === "all" || s.kind === "group"
      ? peers.some((p) => s.kind === "all" || p.group === s.name)
      : true,
  );
  if (hasEntry || operatorSources) return;
  for (const { path, node } of nodes) {
    if (publicSsh(node)) continue;
    r.add(
      path,
      node.name,
      "has no management path: no public SSH, no entry node and no peer in ssh.allowFrom",
      "add a peer in group operators, or give some node the entry role",
    );
  }
}
