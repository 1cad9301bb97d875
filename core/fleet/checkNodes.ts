// Checks on each node, then across nodes. Each check reports and carries on, so a stack file
// with five mistakes gets five lines, not one.
import {
  AWS_REGIONS,
  FLANNEL_VXLAN_PORT,
  K3S_API_PORT,
  KUBELET_PORT,
  NIXOS_RELEASE,
  OLLAMA_PORT,
  OLLAMA_PURPOSES,
  OSES,
  PROVIDERS,
  ROLES,
  SENSITIVE_EXPOSURES,
  VULTR_REGIONS,
  type OllamaPurpose,
  type Role,
  type SensitiveExposure,
} from "./catalog";
import type { FleetNode, OllamaModel, PublicAddress } from "./fleet";
import {
  broadcast,
  contains,
  formatCidr,
  formatIpv4,
  isIpv4,
  overlaps,
  parseCidr,
  parseIpv4,
  usableHosts,
  type Cidr,
} from "../net/ipv4";
import { DNS_LABEL_FIX, isDnsLabel, isDomainName, Report, uniqueSorted } from "./report";
import { checkCalendar, checkDataDir, isHostKey, isHttpsUrl, unroutable } from "./checkSafety";
import { k3sSchema, type NodeInput } from "./schema";
import { initSystemOf } from "../plan/osProfile";

export interface NodeContext {
  readonly cidr?: Cidr;
  readonly zones: readonly string[];
  readonly sshPort: number;
}

/** Resolves a node's or peer's mesh address; reports and returns undefined when unusable. */
export function checkMeshIp(
  r: Report,
  path: string,
  given: { meshIp?: string; id?: number },
  cidr: Cidr | undefined,
): number | undefined {
  if (given.meshIp !== undefined && given.id !== undefined) {
    r.add(`${path}.id`, given.id, "is given together with meshIp", "keep one of meshIp or id");
    return undefined;
  }
  if (given.meshIp === undefined && given.id === undefined) {
    r.add(
      `${path}.meshIp`,
      undefined,
      "is required (or an id)",
      "set meshIp, or id: a stable number that becomes the host part of the mesh address",
    );
    return undefined;
  }
  if (!cidr) return undefined; // mesh.cidr is broken and already reported
  if (given.id !== undefined) {
    if (given.id < 1 || given.id > usableHosts(cidr)) {
      r.add(
        `${path}.id`,
        given.id,
        `is outside the usable hosts of mesh.cidr ${formatCidr(cidr)}`,
        `use a number from 1 to ${usableHosts(cidr)}`,
      );
      return undefined;
    }
    return cidr.network + given.id;
  }
  const ip = parseIpv4(given.meshIp ?? "");
  if (ip === undefined) {
    r.add(`${path}.meshIp`, given.meshIp, "is not an IPv4 address", "write it as a.b.c.d");
    return undefined;
  }
  if (!contains(cidr, ip)) {
    const example = formatIpv4(cidr.network + Math.min(ip % 256 || 1, usableHosts(cidr)));
    r.add(
      `${path}.meshIp`,
      given.meshIp,
      `is outside mesh.cidr ${formatCidr(cidr)}`,
      `pick an address inside it, such as ${example}`,
    );
    return undefined;
  }
  if (ip === cidr.network || ip === broadcast(cidr)) {
    const which = ip === cidr.network ? "network" : "broadcast";
    r.add(
      `${path}.meshIp`,
      given.meshIp,
      `is the ${which} address of mesh.cidr ${formatCidr(cidr)}`,
      `pick a host address from ${formatIpv4(cidr.network + 1)} to ${formatIpv4(broadcast(cidr) - 1)}`,
    );
    return undefined;
  }
  return ip;
}

// Ollama model references: [host/][namespace/]model[:tag]. Anything else (spaces, shell
// characters, empty tags) is refused before it can reach a command line on the node.
const OLLAMA_MODEL =
  /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$/;

export function checkNode(
  r: Report,
  path: string,
  n: NodeInput,
  ctx: NodeContext,
): FleetNode | undefined {
  const before = r.problems.length;
  if (!isDnsLabel(n.name)) r.add(`${path}.name`, n.name, "is not a DNS label", DNS_LABEL_FIX);
  const providerOk = r.oneOf(`${path}.provider`, n.provider, PROVIDERS, "provider");
  r.oneOf(`${path}.os`, n.os, OSES, "os");
  if (providerOk) checkPlacement(r, path, n);
  const roles = checkRoles(r, path, n.roles);
  const address = providerOk ? checkAddress(r, path, n, ctx.cidr) : undefined;
  const meshIp = checkMeshIp(r, path, n, ctx.cidr);
  if (providerOk) checkHostKey(r, path, n);
  checkRoleNeeds(r, path, n, roles, address);
  const exposure = checkPublicPorts(r, path, n, address, ctx.sshPort);
  const models = checkOllama(r, path, n, roles);
  checkVault(r, path, n, roles);
  checkK3s(r, path, n, roles, ctx);
  checkDnsName(r, path, n, address, ctx.zones);
  if (n.aws && n.provider !== "aws") {
    r.add(`${path}.aws`, n.aws, "is set on a node that is not on AWS", "remove it");
  }
  if (n.aws && (n.aws.rootVolumeGb < 8 || n.aws.rootVolumeGb > 16384)) {
    r.add(`${path}.aws.rootVolumeGb`, n.aws.rootVolumeGb, "is out of range", "use 8 to 16384");
  }
  if (!/^\d{2}\.\d{2}$/.test(n.nixosStateVersion)) {
    r.add(
      `${path}.nixosStateVersion`,
      n.nixosStateVersion,
      "is not a NixOS release",
      `write it like "${NIXOS_RELEASE}": the release the host was first installed with`,
    );
  }
  if (n.formerName !== undefined && (!isDnsLabel(n.formerName) || n.formerName === n.name)) {
    r.add(
      `${path}.formerName`,
      n.formerName,
      n.formerName === n.name ? "is the node's own name" : "is not a DNS label",
      "give the name the node had before the rename, or remove formerName once the rename is up",
    );
  }
  const generation = n.wireguardKeyGeneration;
  if (!Number.isInteger(generation) || generation < 0 || generation > 1_000_000) {
    r.add(
      `${path}.wireguardKeyGeneration`,
      generation,
      "is not a key generation",
      "use a whole number from 0; raise it by one to rotate the node's WireGuard key",
    );
  }
  if (n.decommission) checkDecommission(r, path, n, roles);
  if (r.problems.length !== before || !address || meshIp === undefined) return undefined;
  return {
    name: n.name,
    provider: n.provider as FleetNode["provider"],
    region: n.region,
    os: n.os as FleetNode["os"],
    ...(n.plan !== undefined && { plan: n.plan }),
    ...(n.instanceType !== undefined && { instanceType: n.instanceType }),
    address,
    ...(n.sshHostKey !== undefined && { sshHostKey: n.sshHostKey }),
    meshIp: formatIpv4(meshIp),
    roles: [...roles].sort(),
    ...(n.dnsName !== undefined && { dnsName: n.dnsName }),
    publicTcpPorts: uniqueSorted(n.publicTcpPorts),
    publicUdpPorts: uniqueSorted(n.publicUdpPorts),
    allowPublic: [...exposure].sort(),
    ...(models && { ollama: { models } }),
    ...(n.vault && { vault: n.vault }),
    ...(roles.includes("k3s-server") && { k3s: n.k3s ?? k3sSchema.parse({}) }),
    ...(n.aws && { aws: n.aws }),
    nixosStateVersion: n.nixosStateVersion,
    ...(n.formerName !== undefined && { formerName: n.formerName }),
    ...(generation > 0 && { wireguardKeyGeneration: generation }),
    allowReplace: n.allowReplace,
    decommission: n.decommission,
  };
}

/**
 * What can be given back: an existing host (a cloud host is deleted with its records when it
 * leaves the stack), reachable afterwards the way first contact reached it, whose roles no
 * other node depends on. NixOS hosts are rebuilt rather than restored: not supported yet.
 */
function checkDecommission(r: Report, path: string, n: NodeInput, roles: readonly Role[]): void {
  const why =
    n.provider !== "existing"
      ? [
          "is set on a cloud host",
          "remove the node from the stack: its server is deleted with its DNS records",
        ]
      : n.os === "nixos"
        ? [
            "is not supported on NixOS hosts yet",
            "take the host out of the mesh by hand, then remove the node",
          ]
        : (["hub", "entry", "k3s-server"] as const).find((role) => roles.includes(role))
          ? [
              "is set on a node other nodes depend on (hub, entry or k3s server)",
              "move that role to another node first",
            ]
          : n.publicIp === null && n.firstContactAddress === undefined
            ? [
                "needs a way back to the host after it leaves the mesh",
                "give its firstContactAddress, where its owner's SSH answers",
              ]
            : undefined;
  if (why) r.add(`${path}.decommission`, true, why[0] as string, why[1] as string);
}

function checkPlacement(r: Report, path: string, n: NodeInput): void {
  if (n.provider === "vultr") r.oneOf(`${path}.region`, n.region, VULTR_REGIONS, "Vultr region");
  if (n.provider === "aws") r.oneOf(`${path}.region`, n.region, AWS_REGIONS, "AWS region");
  if (n.provider === "existing" && !/^[a-z0-9][a-z0-9-]*$/.test(n.region)) {
    r.add(
      `${path}.region`,
      n.region,
      "is not a plain label",
      'describe where the host is, such as "hostkey-zurich"',
    );
  }
  const needsPlan = n.provider === "vultr";
  const needsType = n.provider === "aws";
  if (needsPlan && !/^[a-z0-9][a-z0-9.-]+$/.test(n.plan ?? "")) {
    r.add(
      `${path}.plan`,
      n.plan,
      "is required for Vultr",
      "set a Vultr plan id such as vc2-1c-1gb",
    );
  }
  if (!needsPlan && n.plan !== undefined) {
    r.add(`${path}.plan`, n.plan, `means nothing for provider ${n.provider}`, "remove it");
  }
  if (needsType && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(n.instanceType ?? "")) {
    r.add(
      `${path}.instanceType`,
      n.instanceType,
      "is required for AWS",
      "set an instance type such as t3.medium",
    );
  }
  if (!needsType && n.instanceType !== undefined) {
    r.add(
      `${path}.instanceType`,
      n.instanceType,
      `means nothing for provider ${n.provider}`,
      "remove it",
    );
  }
}

function checkHostKey(r: Report, path: string, n: NodeInput): void {
  if (n.provider !== "existing") {
    if (n.sshHostKey !== undefined) {
      r.add(
        `${path}.sshHostKey`,
        n.sshHostKey,
        `is generated by this program for ${n.provider} hosts`,
        "remove it",
      );
    }
    return;
  }
  // The whole value lands in known_hosts: a second line there would be a second trusted key.
  if (n.sshHostKey === undefined || !isHostKey(n.sshHostKey)) {
    r.add(
      `${path}.sshHostKey`,
      n.sshHostKey,
      "must be exactly one Ed25519 host key on one line (type, key, and an optional comment without *, ?, ! or ,), which every connection is pinned to",
      `read it over a path you trust, e.g. \`ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key\` on ${n.name}`,
    );
  }
}

function checkRoles(r: Report, path: string, roles: readonly string[]): Role[] {
  const known = roles.filter((role, i) => r.oneOf(`${path}.roles[${i}]`, role, ROLES, "role"));
  const seen = new Set<string>();
  roles.forEach((role, i) => {
    if (seen.has(role)) r.add(`${path}.roles[${i}]`, role, "is listed twice", "list it once");
    seen.add(role);
  });
  if (known.includes("k3s-server") && known.includes("k3s-agent")) {
    r.add(`${path}.roles`, roles, "has both k3s-server and k3s-agent", "a server also runs pods");
  }
  return [...new Set(known)] as Role[];
}

function checkAddress(
  r: Report,
  path: string,
  n: NodeInput,
  cidr: Cidr | undefined,
): PublicAddress | undefined {
  if (n.provider !== "existing") {
    if (n.publicIp === undefined) return { kind: "cloud" };
    r.add(
      `${path}.publicIp`,
      n.publicIp,
      `is assigned by ${n.provider}, not by the stack file`,
      "remove it",
    );
    return undefined;
  }
  if (n.publicIp === undefined) {
    r.add(
      `${path}.publicIp`,
      undefined,
      "is required for an existing host",
      "give the address it is reached at, or null when it is behind NAT",
    );
    return undefined;
  }
  if (n.publicIp === null) return natAddress(r, path, n);
  if (n.firstContactAddress !== undefined) {
    r.add(
      `${path}.firstContactAddress`,
      n.firstContactAddress,
      "is only for a host behind NAT; this one is reached at its publicIp",
      "remove it",
    );
    return undefined;
  }
  const ip = parseIpv4(n.publicIp);
  if (ip === undefined) {
    r.add(`${path}.publicIp`, n.publicIp, "is not an IPv4 address", "write it as a.b.c.d");
    return undefined;
  }
  const why = unroutable(ip);
  if (why) {
    r.add(
      `${path}.publicIp`,
      n.publicIp,
      `is ${why}, which no host can be reached at`,
      "give the address the host is reached at from the operator's machine, or null behind NAT",
    );
    return undefined;
  }
  if (cidr && contains(cidr, ip)) {
    r.add(
      `${path}.publicIp`,
      n.publicIp,
      `is inside mesh.cidr ${formatCidr(cidr)}`,
      "give the address the host has outside the mesh",
    );
    return undefined;
  }
  return { kind: "static", ip: n.publicIp };
}

/** A host behind NAT, and where first contact reaches it, if anywhere: host or host:port. */
function natAddress(r: Report, path: string, n: NodeInput): PublicAddress | undefined {
  const text = n.firstContactAddress;
  if (text === undefined) return { kind: "nat" };
  const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(text);
  const host = m?.[1] ?? "";
  const port = m?.[2] === undefined ? 22 : Number(m[2]);
  if (!m || !(isIpv4(host) || isDomainName(host)) || port < 1 || port > 65535) {
    r.add(
      `${path}.firstContactAddress`,
      text,
      "is not an address with an optional port",
      'write it like "192.168.1.50" or "router.example.com:2222"',
    );
    return undefined;
  }
  return { kind: "nat", firstContact: { host, port } };
}

/** Services this program runs as systemd units (NixOS or not). */
const SYSTEMD_ROLES: readonly Role[] = ["ollama", "vault", "k3s-server", "k3s-agent"];

function checkRoleNeeds(
  r: Report,
  path: string,
  n: NodeInput,
  roles: readonly Role[],
  address: PublicAddress | undefined,
): void {
  for (const role of roles.filter((x) => SYSTEMD_ROLES.includes(x))) {
    // An unknown OS is reported by its own check.
    const os = OSES.find((o) => o === n.os);
    const init = os && initSystemOf(os);
    if (init && init !== "systemd") {
      r.add(
        `${path}.os`,
        n.os,
        `cannot run the ${role} role: its service is a systemd unit, and ${n.os} boots ${init}`,
        `use an OS that boots systemd for this node (${OSES.filter((os) => initSystemOf(os) === "systemd").join(", ")})`,
      );
    }
  }
  for (const role of ["hub", "entry"] as const) {
    if (roles.includes(role) && address?.kind === "nat") {
      r.add(
        `${path}.publicIp`,
        null,
        `is null, but a ${role} must be reachable from the internet`,
        `give ${n.name} a public address or move the ${role} role to a node that has one`,
      );
    }
  }
}

function checkPublicPorts(
  r: Report,
  path: string,
  n: NodeInput,
  address: PublicAddress | undefined,
  sshPort: number,
): SensitiveExposure[] {
  const allowed = n.allowPublic.filter((word, i) =>
    r.oneOf(`${path}.allowPublic[${i}]`, word, SENSITIVE_EXPOSURES, "public exposure"),
  );
  const sensitive: Record<number, SensitiveExposure> = {
    [sshPort]: "ssh",
    [OLLAMA_PORT]: "ollama",
    [K3S_API_PORT]: "k3s-api",
    [KUBELET_PORT]: "kubelet",
  };
  // flannel's interface is trusted: a VXLAN packet from the internet would arrive inside the cluster.
  const sensitiveUdp: Record<number, SensitiveExposure> = { [FLANNEL_VXLAN_PORT]: "flannel" };
  const consent = (proto: "TCP" | "UDP", list: readonly number[], words: typeof sensitive) =>
    list.forEach((p, i) => {
      const at = `${path}.public${proto === "TCP" ? "Tcp" : "Udp"}Ports[${i}]`;
      if (!r.port(at, p)) return;
      const word = words[p];
      if (word && !allowed.includes(word)) {
        r.add(
          at,
          p,
          `opens ${word} (${proto} ${p}) to the internet, which is mesh-only unless explicitly allowed`,
          `remove it, or add "${word}" to ${path}.allowPublic if ${n.name} must expose it`,
        );
      }
    });
  consent("TCP", n.publicTcpPorts, sensitive);
  consent("UDP", n.publicUdpPorts, sensitiveUdp);
  const anyPublic = n.publicTcpPorts.length + n.publicUdpPorts.length > 0;
  if (anyPublic && address?.kind === "nat") {
    r.add(
      `${path}.publicTcpPorts`,
      n.publicTcpPorts,
      "lists public ports on a host behind NAT, which nothing can reach",
      "remove them, or give the host a public address",
    );
  }
  return allowed;
}

function checkOllama(
  r: Report,
  path: string,
  n: NodeInput,
  roles: readonly Role[],
): OllamaModel[] | undefined {
  if (!n.ollama) return roles.includes("ollama") ? [] : undefined;
  if (!roles.includes("ollama")) {
    r.add(`${path}.ollama`, n.ollama, "is set but roles has no ollama", 'add "ollama" to roles');
  }
  const seen = new Set<string>();
  return n.ollama.models.map((m, i) => {
    const at = `${path}.ollama.models[${i}]`;
    if (!OLLAMA_MODEL.test(m.name)) {
      r.add(
        `${at}.name`,
        m.name,
        "is not an Ollama model reference",
        'write it as model[:tag], such as "qwen2.5-coder:3b"',
      );
    }
    if (seen.has(m.name)) r.add(`${at}.name`, m.name, "is listed twice", "list it once");
    seen.add(m.name);
    if (m.purpose !== undefined) r.oneOf(`${at}.purpose`, m.purpose, OLLAMA_PURPOSES, "purpose");
    return {
      name: m.name,
      ...(m.purpose !== undefined && { purpose: m.purpose as OllamaPurpose }),
    };
  });
}

function checkVault(r: Report, path: string, n: NodeInput, roles: readonly Role[]): void {
  if (roles.includes("vault") && !n.vault) {
    r.add(
      `${path}.vault`,
      undefined,
      "is required on a vault node",
      "set vault.binaryUrl and vault.binarySha256",
    );
  }
  if (!n.vault) return;
  if (!roles.includes("vault")) {
    r.add(`${path}.vault`, n.vault, "is set but roles has no vault", 'add "vault" to roles');
  }
  const v = n.vault;
  const isUrl = v.binaryUrl.startsWith("https://") && isHttpsUrl(v.binaryUrl);
  if (!isUrl && !/^(\/[A-Za-z0-9._+@-]+)+$/.test(v.binaryUrl)) {
    r.add(
      `${path}.vault.binaryUrl`,
      v.binaryUrl,
      "is neither an https URL (a host, no credentials, no spaces, quotes or control characters) nor a plain absolute path",
      "give an https:// URL or a path on the operator's machine such as /srv/builds/clavitor",
    );
  }
  if (!/^[0-9a-f]{64}$/.test(v.binarySha256)) {
    r.add(
      `${path}.vault.binarySha256`,
      v.binarySha256,
      "is not a sha256 digest",
      "use the 64 lowercase hex characters that sha256sum prints",
    );
  }
  if (!/^[1-9]\d*[KMG]$/.test(v.memoryMax)) {
    r.add(`${path}.vault.memoryMax`, v.memoryMax, "is not a size", 'write it like "256M"');
  }
  if (v.tasksMax < 8) r.add(`${path}.vault.tasksMax`, v.tasksMax, "is too small", "use 8 or more");
  if (v.heartbeatSeconds < 10 || v.heartbeatSeconds > 3600) {
    r.add(`${path}.vault.heartbeatSeconds`, v.heartbeatSeconds, "is out of range", "use 10-3600");
  }
  checkDataDir(r, `${path}.vault.dataDir`, v.dataDir);
  if (!/^\/[A-Za-z0-9._/-]*$/.test(v.healthPath)) {
    r.add(`${path}.vault.healthPath`, v.healthPath, "is not a URL path", 'use "/health"');
  }
  checkCalendar(r, `${path}.vault.integrityCheck`, v.integrityCheck);
}

function checkK3s(
  r: Report,
  path: string,
  n: NodeInput,
  roles: readonly Role[],
  ctx: NodeContext,
): void {
  if (!n.k3s) return;
  if (!roles.includes("k3s-server")) {
    r.add(`${path}.k3s`, n.k3s, "is set but roles has no k3s-server", "set it on the server");
    return;
  }
  const k = n.k3s;
  if (!Number.isInteger(k.tokenGeneration) || k.tokenGeneration < 0) {
    r.add(
      `${path}.k3s.tokenGeneration`,
      k.tokenGeneration,
      "is not a token generation",
      "use a whole number from 0; raise it by one to rotate the cluster's join token",
    );
  }
  if (!["host-gw", "vxlan"].includes(k.flannelBackend)) {
    r.add(
      `${path}.k3s.flannelBackend`,
      k.flannelBackend,
      "is not a flannel backend this program runs over WireGuard",
      'use "host-gw" for a single node or "vxlan" when agents join',
    );
  }
  const ranges: Partial<Record<"clusterCidr" | "serviceCidr", Cidr>> = {};
  for (const key of ["clusterCidr", "serviceCidr"] as const) {
    const cidr = parseCidr(k[key]);
    if (cidr) ranges[key] = cidr;
    if (!cidr) {
      r.add(`${path}.k3s.${key}`, k[key], "is not a CIDR", "write it like 10.42.0.0/16");
    } else if (ctx.cidr && overlaps(cidr, ctx.cidr)) {
      r.add(
        `${path}.k3s.${key}`,
        k[key],
        `overlaps mesh.cidr ${formatCidr(ctx.cidr)}`,
        "move the mesh or the cluster to ranges that do not overlap",
      );
    }
  }
  if (
    ranges.clusterCidr &&
    ranges.serviceCidr &&
    overlaps(ranges.clusterCidr, ranges.serviceCidr)
  ) {
    r.add(
      `${path}.k3s.serviceCidr`,
      k.serviceCidr,
      `overlaps k3s.clusterCidr ${k.clusterCidr}: a service address would also be a pod's`,
      "give pods and services ranges of their own, such as 10.42.0.0/16 and 10.43.0.0/16",
    );
  }
  // The kubeconfig is cluster-admin: readable by root, or by root's group at most.
  if (!["0600", "0640"].includes(k.writeKubeconfigMode)) {
    r.add(
      `${path}.k3s.writeKubeconfigMode`,
      k.writeKubeconfigMode,
      "would let other accounts on the node read the cluster-admin kubeconfig",
      'use "0600" (or "0640" for root\'s group)',
    );
  }
  k.disable.forEach((c, i) => {
    if (!/^[a-z0-9-]+$/.test(c)) {
      r.add(`${path}.k3s.disable[${i}]`, c, "is not a k3s component", "e.g. traefik");
    }
  });
  k.nodeLabels.forEach((label, i) => {
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9][A-Za-z0-9._-]*=[A-Za-z0-9._-]*$/.test(label)) {
      r.add(`${path}.k3s.nodeLabels[${i}]`, label, "is not key=value", "e.g. openclaw/role=server");
    }
  });
  [...k.tlsSans, ...k.ingressHosts].forEach((name) => {
    if (!isDomainName(name)) {
      r.add(`${path}.k3s`, name, "names a host that is not a domain name", "e.g. api.example.com");
    }
  });
  k.ingressHosts.forEach((host, i) =>
    checkZone(r, `${path}.k3s.ingressHosts[${i}]`, host, ctx.zones),
  );
  checkCalendar(r, `${path}.k3s.snapshotSchedule`, k.snapshotSchedule);
  // Each ingress name becomes DNS records named after it (dnsRecordPart): two names that
  // map to one part would be one Pulumi resource name.
  const parts = new Map<string, string>();
  k.ingressHosts.forEach((host, i) => {
    const part = dnsRecordPart(host, ctx.zones);
    if (part === undefined) return; // outside the zones, reported above
    const first = parts.get(part);
    if (first !== undefined) {
      r.add(
        `${path}.k3s.ingressHosts[${i}]`,
        host,
        `names the same DNS records ("${part}") as ${first}: names are compared with dots as hyphens and without their zone`,
        "give each ingress host a name that differs in more than dots and hyphens, or in more than its zone",
      );
    } else parts.set(part, host);
  });
}

function checkDnsName(
  r: Report,
  path: string,
  n: NodeInput,
  address: PublicAddress | undefined,
  zones: readonly string[],
): void {
  if (n.dnsName === undefined) return;
  checkZone(r, `${path}.dnsName`, n.dnsName, zones);
  if (address?.kind === "nat") {
    r.add(
      `${path}.dnsName`,
      n.dnsName,
      "needs a public address to point at, and this host is behind NAT",
      "remove dnsName",
    );
  }
}

function checkZone(r: Report, path: string, name: string, zones: readonly string[]): void {
  if (zones.length === 0) {
    r.add(path, name, "needs a DNS zone to live in", "list its zone in dns.zones");
  } else if (!isDomainName(name) || !zoneOf(name, zones)) {
    r.add(
      path,
      name,
      `is not a name inside dns.zones (${zones.join(", ")})`,
      `use a name that ends in one of them, such as www.${zones[0]}`,
    );
  }
}

/**
 * The part of a DNS record's resource name that comes from its hostname: the name inside its
 * zone with dots as hyphens, "apex" for the zone itself. Resource names are kept stable on
 * purpose (a new name would delete and recreate the record).
 */
export function dnsRecordPart(hostname: string, zones: readonly string[]): string | undefined {
  const zone = zoneOf(hostname, zones);
  if (zone === undefined) return undefined;
  const label = hostname === zone ? "apex" : hostname.slice(0, -zone.length - 1);
  return label.replace(/\./g, "-");
}

/** The zone a name belongs to: the longest listed zone that ends it. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
  return [...zones]
    .filter((zone) => name === zone || name.endsWith(`.${zone}`))
    .sort((a, b) => b.length - a.length)[0];
}
