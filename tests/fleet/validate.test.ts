import { collectProblems, validateFleet } from "../../core/fleet/validate";
import { FleetValidationError, formatProblem } from "../../core/fleet/problems";
import { HOST_KEY, NIXPKGS, SHA, smallFleet, type Raw } from "../helpers/fleets";

/** Makes the hub a k3s server with these settings. */
function k3s(f: Raw, settings: object): void {
  f.nodes[0].roles = ["hub", "k3s-server"];
  f.nodes[0].k3s = settings;
}

const DATA_DIR_FIX = "Fix: use a directory of the vault's own, such as /var/lib/clavitor.";
const CALENDAR =
  'is not a systemd calendar expression (one line: a shorthand such as daily, or date and time tokens). Fix: use "daily", "weekly" or a time such as "*-*-* 03:00:00".';
const HOST_KEY_PROBLEM =
  "must be exactly one Ed25519 host key on one line (type, key, and an optional comment without *, ?, ! or ,), which every connection is pinned to. Fix: read it over a path you trust, e.g. `ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key` on web.";
const ACCOUNT =
  "is a system or service account: the operator's key would log in as it, with its files and processes. Fix: use an account of the operator's own, such as \"boss\".";
const SSH_PORT_FIX =
  "so whoever may reach that may reach sshd. Fix: give SSH a port of its own (22, or one such as 2222 that no role or rule uses); grant SSH with ssh.allowFrom.";
const UNREACHABLE =
  "which no host can be reached at. Fix: give the address the host is reached at from the operator's machine, or null behind NAT.";
const URL_PROBLEM =
  "is neither an https URL (a host, no credentials, no spaces, quotes or control characters) nor a plain absolute path. Fix: give an https:// URL or a path on the operator's machine such as /srv/builds/clavitor.";
const INGRESS_FIX =
  "names are compared with dots as hyphens and without their zone. Fix: give each ingress host a name that differs in more than dots and hyphens, or in more than its zone.";

function problems(mutate: (f: Raw) => void): string[] {
  const fleet = smallFleet();
  mutate(fleet);
  return collectProblems(fleet).problems.map(formatProblem);
}

test("the small fleet is valid", () => {
  expect(collectProblems(smallFleet()).problems).toEqual([]);
  expect(validateFleet(smallFleet()).nodes.map((n) => n.meshIp)).toEqual([
    "10.20.0.3",
    "10.20.0.1",
    "10.20.0.2",
  ]);
});

// Each case: what to break, and the whole line the operator must read (path, value, fix).
const cases: [string, (f: Raw) => void, string][] = [
  [
    "duplicate node names",
    (f) => (f.nodes[2].name = "web"),
    'fleet.nodes[2].name = "web": is already used by fleet.nodes[1]. Fix: give every node and peer its own name.',
  ],
  [
    "duplicate mesh IPs between nodes",
    (f) => (f.nodes[2].id = 2),
    'fleet.nodes[2].meshIp = "10.20.0.2": is already used by fleet.nodes[1] (web). Fix: give every node and peer its own mesh address.',
  ],
  [
    "a peer on a node's mesh IP",
    (f) => (f.peers[0].meshIp = "10.20.0.1"),
    'fleet.peers[0].meshIp = "10.20.0.1": is already used by fleet.nodes[0] (hub). Fix: give every node and peer its own mesh address.',
  ],
  [
    "a mesh IP outside the CIDR",
    (f) => {
      delete f.nodes[1].id;
      f.nodes[1].meshIp = "10.20.1.7";
    },
    'fleet.nodes[1].meshIp = "10.20.1.7": is outside mesh.cidr 10.20.0.0/24. Fix: pick an address inside it, such as 10.20.0.7.',
  ],
  [
    "the network address",
    (f) => {
      delete f.nodes[1].id;
      f.nodes[1].meshIp = "10.20.0.0";
    },
    'fleet.nodes[1].meshIp = "10.20.0.0": is the network address of mesh.cidr 10.20.0.0/24. Fix: pick a host address from 10.20.0.1 to 10.20.0.254.',
  ],
  [
    "the broadcast address",
    (f) => (f.peers[0].meshIp = "10.20.0.255"),
    'fleet.peers[0].meshIp = "10.20.0.255": is the broadcast address of mesh.cidr 10.20.0.0/24. Fix: pick a host address from 10.20.0.1 to 10.20.0.254.',
  ],
  [
    "an id past the end of the CIDR",
    (f) => (f.nodes[1].id = 255),
    "fleet.nodes[1].id = 255: is outside the usable hosts of mesh.cidr 10.20.0.0/24. Fix: use a number from 1 to 254.",
  ],
  [
    "a hub without a public address",
    (f) => {
      f.nodes[2].roles = ["hub", "ollama"];
      f.nodes[0].roles = [];
    },
    "fleet.nodes[2].publicIp = null: is null, but a hub must be reachable from the internet. Fix: give gpu a public address or move the hub role to a node that has one.",
  ],
  [
    "two hubs in hub-spoke",
    (f) => (f.nodes[1].roles = ["hub", "vault"]),
    'fleet.nodes[1].roles = ["hub","vault"]: is a second hub (the first is fleet.nodes[0]); hub-spoke has exactly one. Fix: remove the hub role from all but one node.',
  ],
  [
    "no hub in hub-spoke",
    (f) => (f.nodes[0].roles = []),
    'fleet.nodes = "(no hub)": hub-spoke needs exactly one hub. Fix: add "hub" to the roles of one node with a public address.',
  ],
  [
    "an unknown provider",
    (f) => (f.nodes[0].provider = "vulture"),
    'fleet.nodes[0].provider = "vulture": is not a known provider. Fix: did you mean "vultr"?.',
  ],
  [
    "an unknown os",
    (f) => (f.nodes[1].os = "windows"),
    'fleet.nodes[1].os = "windows": is not a known os. Fix: use one of: nixos, ubuntu, debian, alpine.',
  ],
  [
    "an unknown Vultr region",
    (f) => (f.nodes[0].region = "zrh"),
    'fleet.nodes[0].region = "zrh": is not a known Vultr region. Fix: use one of: ams, atl, blr, bom, cdg, del, dfw, ewr, fra, hnl, icn, itm, jnb, lax, lhr, mad, man, mel, mex, mia, nrt, ord, sao, scl, sea, sgp, sjc, sto, syd, tlv, waw, yto.',
  ],
  [
    "an unknown AWS region",
    (f) =>
      Object.assign(f.nodes[0], {
        provider: "aws",
        region: "us-east-9",
        instanceType: "t3.small",
        plan: undefined,
      }),
    'fleet.nodes[0].region = "us-east-9": is not a known AWS region. Fix: did you mean "us-east-1"?.',
  ],
  [
    "a name that is not a DNS label",
    (f) => (f.nodes[1].name = "Web_1"),
    'fleet.nodes[1].name = "Web_1": is not a DNS label. Fix: use 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen.',
  ],
  [
    "a k3s agent without a server",
    (f) => (f.nodes[2].roles = ["ollama", "k3s-agent"]),
    'fleet.nodes[2].roles = ["ollama","k3s-agent"]: has k3s-agent but no node in the fleet is a k3s-server. Fix: give one node the "k3s-server" role.',
  ],
  [
    "a malformed Ollama model name",
    (f) => (f.nodes[2].ollama.models[0].name = "qwen coder; rm -rf /"),
    'fleet.nodes[2].ollama.models[0].name = "qwen coder; rm -rf /": is not an Ollama model reference. Fix: write it as model[:tag], such as "qwen2.5-coder:3b".',
  ],
  [
    "an access rule naming an unknown node",
    (f) => (f.access[0].to = ["node:gpu2"]),
    'fleet.access[0].to[0] = "node:gpu2": names node "gpu2", which is not in this fleet. Fix: use one of: gpu, hub, web.',
  ],
  [
    "an access rule naming an unknown group",
    (f) => (f.access[0].from = ["group:admins"]),
    'fleet.access[0].from[0] = "group:admins": names group "admins", which is not in this fleet. Fix: use one of: operators.',
  ],
  [
    "an access rule port out of range",
    (f) => (f.access[0].tcp = [0, 70000]),
    "fleet.access[0].tcp[1] = 70000: is not a port number. Fix: use a whole number from 1 to 65535.",
  ],
  [
    "a public SSH port without consent",
    (f) => (f.nodes[1].publicTcpPorts = [22]),
    'fleet.nodes[1].publicTcpPorts[0] = 22: opens ssh (TCP 22) to the internet, which is mesh-only unless explicitly allowed. Fix: remove it, or add "ssh" to fleet.nodes[1].allowPublic if web must expose it.',
  ],
  [
    "a public Ollama port without consent",
    (f) => (f.nodes[0].publicTcpPorts = [443, 11434]),
    'fleet.nodes[0].publicTcpPorts[1] = 11434: opens ollama (TCP 11434) to the internet, which is mesh-only unless explicitly allowed. Fix: remove it, or add "ollama" to fleet.nodes[0].allowPublic if hub must expose it.',
  ],
  [
    "an unknown field, with a suggestion",
    (f) => (f.nodes[1].meshIP = "10.20.0.9"),
    'fleet.nodes[1].meshIP = "10.20.0.9": is not a field this program knows. Fix: did you mean "meshIp"?.',
  ],
  [
    "a missing required field",
    (f) => delete f.nodes[1].os,
    "fleet.nodes[1].os = (missing): is required. Fix: add it (a string).",
  ],
  [
    "a wrong type",
    (f) => (f.mesh.listenPort = "51820"),
    'fleet.mesh.listenPort = "51820": should be a number. Fix: write it as a number.',
  ],
  [
    "a public address on a cloud node",
    (f) => (f.nodes[0].publicIp = "198.51.100.1"),
    'fleet.nodes[0].publicIp = "198.51.100.1": is assigned by vultr, not by the stack file. Fix: remove it.',
  ],
  [
    "an existing host without publicIp",
    (f) => delete f.nodes[1].publicIp,
    "fleet.nodes[1].publicIp = (missing): is required for an existing host. Fix: give the address it is reached at, or null when it is behind NAT.",
  ],
  [
    "a mesh CIDR with host bits",
    (f) => (f.mesh.cidr = "10.20.0.1/24"),
    'fleet.mesh.cidr = "10.20.0.1/24": is not a network in CIDR form. Fix: write it like 10.84.0.0/24, with the host bits zero.',
  ],
  [
    "a public mesh CIDR",
    (f) => (f.mesh.cidr = "8.8.8.0/24"),
    'fleet.mesh.cidr = "8.8.8.0/24": is not private address space, so mesh routes would hide real internet hosts. Fix: use a range inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10.',
  ],
  [
    "root as the admin user",
    (f) => (f.ssh.adminUser = "root"),
    'fleet.ssh.adminUser = "root": is root, and root never logs in over SSH. Fix: use a plain lowercase user name such as "boss".',
  ],
  [
    "a break-glass range that opens SSH widely",
    (f) => (f.ssh.breakGlassCidrs = ["0.0.0.0/0"]),
    'fleet.ssh.breakGlassCidrs[0] = "0.0.0.0/0": opens SSH to a large part of the internet. Fix: name the operator\'s own address (/32) or a range of /16 or narrower.',
  ],
  [
    "a first-contact range that opens SSH widely",
    (f) => (f.ssh.firstContactFrom = ["10.0.0.0/8"]),
    'fleet.ssh.firstContactFrom[0] = "10.0.0.0/8": opens SSH to a large part of the internet. Fix: name the operator\'s own address (/32) or a range of /16 or narrower.',
  ],
  [
    "created hosts with no network for first contact",
    (f) => (f.ssh.firstContactFrom = []),
    'fleet.ssh.firstContactFrom = []: is empty, but hub is created by the program and first reached over public SSH, which the provider firewall lets in only from these networks. Fix: list the public address(es) the operator\'s machine or CI runner connects from, such as "198.51.100.7/32".',
  ],
  [
    "a malformed WireGuard key",
    (f) => (f.peers[0].publicKey = "not-a-key"),
    'fleet.peers[0].publicKey = "not-a-key": is not a WireGuard public key. Fix: paste the 44-character base64 key that `wg pubkey` prints on the peer.',
  ],
  [
    "a DNS name outside the zones",
    (f) => (f.nodes[1].dnsName = "web.example.org"),
    'fleet.nodes[1].dnsName = "web.example.org": is not a name inside dns.zones (example.com). Fix: use a name that ends in one of them, such as www.example.com.',
  ],
  [
    "a full mesh with two nodes behind NAT",
    (f) => {
      f.mesh.topology = "full-mesh";
      f.nodes[0].roles = [];
      f.nodes[1].publicIp = null;
      delete f.nodes[1].dnsName;
    },
    'fleet.nodes[2].publicIp = null: is behind NAT like web, and two NAT\'d nodes cannot reach each other in a full mesh. Fix: give one of them a public address, or use mesh.topology "hub-spoke".',
  ],
  [
    "host-gw flannel with agents",
    (f) => {
      f.nodes[0].roles = ["hub", "k3s-server"];
      f.nodes[1].roles = ["vault", "k3s-agent"];
    },
    'fleet.nodes[0].k3s.flannelBackend = "host-gw": needs every node on one L2 network, but agents join over WireGuard, which is L3. Fix: use "vxlan" when the cluster has agents.',
  ],
  [
    "a service role on Alpine",
    (f) => (f.nodes[2].os = "alpine"),
    'fleet.nodes[2].os = "alpine": cannot run the ollama role: its service is a systemd unit, and alpine boots openrc. Fix: use an OS that boots systemd for this node (nixos, ubuntu, debian).',
  ],
  [
    "a node nobody can manage",
    (f) => {
      f.peers = [];
      f.access = [];
      f.ssh.allowFrom = [];
    },
    'fleet.nodes[0] = "hub": has no management path: no public SSH, no entry node and no peer in ssh.allowFrom. Fix: add a peer in group operators, or give some node the entry role.',
  ],
  [
    "a fleet with NixOS nodes and no nixpkgs pin",
    (f) => delete f.nixpkgs,
    'fleet.nixpkgs = (missing): is required: 1 node runs NixOS, and every NixOS node builds from this one pinned nixpkgs. Fix: add nixpkgs: { branch: nixos-26.05, rev, sha256 } (see "One pinned nixpkgs" in the README).',
  ],
  [
    "a pin on a branch that is not a release",
    (f) => (f.nixpkgs.branch = "nixos-unstable"),
    'fleet.nixpkgs.branch = "nixos-unstable": is not a NixOS release branch. Fix: use nixos-26.05: a stable release gets security fixes, unstable does not.',
  ],
  [
    "a pin on a release the modules are not written for",
    (f) => (f.nixpkgs.branch = "nixos-24.11"),
    'fleet.nixpkgs.branch = "nixos-24.11": is a release the NixOS modules of this program are not written for. Fix: use nixos-26.05.',
  ],
  [
    "a short commit id",
    (f) => (f.nixpkgs.rev = "0123456"),
    'fleet.nixpkgs.rev = "0123456": is not a full commit id. Fix: write the 40 lowercase hex digits of a commit on nixos-26.05 (git ls-remote https://github.com/NixOS/nixpkgs refs/heads/nixos-26.05 prints the newest).',
  ],
  [
    "a hex sha256 (Nix reads base32 or SRI here)",
    (f) => (f.nixpkgs.sha256 = SHA),
    `fleet.nixpkgs.sha256 = "${SHA}": is not a sha256 in Nix base32 (52 characters) or SRI ("sha256-" and 44 base64 characters) form. Fix: write what nix-prefetch-url --unpack https://github.com/NixOS/nixpkgs/archive/0123456789abcdef0123456789abcdef01234567.tar.gz prints.`,
  ],
  [
    "a base32 sha256 with a letter Nix's alphabet lacks",
    (f) => (f.nixpkgs.sha256 = `e${NIXPKGS.sha256.slice(1)}`),
    `fleet.nixpkgs.sha256 = "e${NIXPKGS.sha256.slice(1)}": is not a sha256 in Nix base32 (52 characters) or SRI ("sha256-" and 44 base64 characters) form. Fix: write what nix-prefetch-url --unpack https://github.com/NixOS/nixpkgs/archive/0123456789abcdef0123456789abcdef01234567.tar.gz prints.`,
  ],
  [
    "an unknown field in the pin",
    (f) => (f.nixpkgs.hash = "x"),
    'fleet.nixpkgs.hash = "x": is not a field this program knows. Fix: use one of: branch, rev, sha256.',
  ],
  [
    "a stateVersion newer than the release the fleet runs",
    (f) => (f.nodes[0].nixosStateVersion = "26.11"),
    'fleet.nodes[0].nixosStateVersion = "26.11": is newer than the pinned nixpkgs (nixos-26.05): a host cannot have been installed with a release it does not run. Fix: write the release the host was first installed with.',
  ],
  [
    "a stateVersion that is not a release",
    (f) => (f.nodes[0].nixosStateVersion = "24.11.2"),
    'fleet.nodes[0].nixosStateVersion = "24.11.2": is not a NixOS release. Fix: write it like "26.05": the release the host was first installed with.',
  ],
  [
    "a former name still in use",
    (f) => (f.nodes[2].formerName = "web"),
    'fleet.nodes[2].formerName = "web": is the name of fleet.nodes[1]. Fix: a former name must belong to no node or peer now; rename one step at a time.',
  ],
  [
    "one former name for two nodes",
    (f) => {
      f.nodes[1].formerName = "old";
      f.nodes[2].formerName = "old";
    },
    'fleet.nodes[2].formerName = "old": is the formerName of fleet.nodes[1] too. Fix: a former name must belong to no node or peer now; rename one step at a time.',
  ],
  [
    "a former name that is the node's own",
    (f) => (f.nodes[1].formerName = f.nodes[1].name),
    'fleet.nodes[1].formerName = "web": is the node\'s own name. Fix: give the name the node had before the rename, or remove formerName once the rename is up.',
  ],
  [
    "a cloud host to decommission",
    (f) => (f.nodes[0].decommission = true),
    "fleet.nodes[0].decommission = true: is set on a cloud host. Fix: remove the node from the stack: its server is deleted with its DNS records.",
  ],
  [
    "a host behind NAT to decommission with no way back",
    (f) => (f.nodes[2].decommission = true),
    "fleet.nodes[2].decommission = true: needs a way back to the host after it leaves the mesh. Fix: give its firstContactAddress, where its owner's SSH answers.",
  ],
  [
    "a leaving node named in a rule",
    (f) => {
      f.nodes[1].decommission = true;
      f.access.push({ from: ["node:web"], to: ["role:ollama"], tcp: [11434] });
    },
    'fleet.access[1].from[0] = "node:web": names web, which is leaving the mesh (decommission). Fix: take it out of the rule.',
  ],
  [
    "allowReplace that is not a boolean",
    (f) => (f.nodes[1].allowReplace = "yes"),
    'fleet.nodes[1].allowReplace = "yes": should be a boolean. Fix: write it as a boolean.',
  ],
  // Issue 14: values that reach a root shell, a unit file, known_hosts or a chown.
  ...(
    [
      [
        "/",
        "is not under /var/lib/, /srv/ or /opt/; the vault's user would own a system directory",
      ],
      [
        "/etc",
        "is not under /var/lib/, /srv/ or /opt/; the vault's user would own a system directory",
      ],
      [
        "/usr",
        "is not under /var/lib/, /srv/ or /opt/; the vault's user would own a system directory",
      ],
      [
        "/var/lib",
        "is not under /var/lib/, /srv/ or /opt/; the vault's user would own a system directory",
      ],
      [
        "/usr/local/lib/clawd-mesh",
        "is not under /var/lib/, /srv/ or /opt/; the vault's user would own a system directory",
      ],
      ["/var/lib/clawd-mesh", "is /var/lib/clawd-mesh, which is not the vault's to own"],
      [
        "/var/lib/clawd-mesh/vault",
        "is inside /var/lib/clawd-mesh, which is not the vault's to own",
      ],
      ["/opt/clavitor", "is /opt/clavitor, which is not the vault's to own"],
      ["/var/lib/dpkg", "is /var/lib/dpkg, which is not the vault's to own"],
      ["/var/lib/../etc", "is not a plain absolute path (no '..', '.', '//' or trailing '/')"],
      ["/srv/vault/", "is not a plain absolute path (no '..', '.', '//' or trailing '/')"],
    ] as const
  ).map(([dir, message]): [string, (f: Raw) => void, string] => [
    `vault.dataDir ${dir}`,
    (f) => (f.nodes[1].vault.dataDir = dir),
    `fleet.nodes[1].vault.dataDir = ${JSON.stringify(dir)}: ${message}. ${DATA_DIR_FIX}`,
  ]),
  [
    "a unit directive smuggled into the integrity check's calendar",
    (f) => (f.nodes[1].vault.integrityCheck = "daily\nUnit=poweroff.target"),
    `fleet.nodes[1].vault.integrityCheck = "daily\\nUnit=poweroff.target": ${CALENDAR}`,
  ],
  ...[
    "daily\nUnit=poweroff.target",
    "",
    "Unit=poweroff.target",
    "*-*-* 03:00:00; reboot",
    "daily ",
  ].map((schedule): [string, (f: Raw) => void, string] => [
    `k3s.snapshotSchedule ${JSON.stringify(schedule)}`,
    (f) => k3s(f, { snapshotSchedule: schedule }),
    `fleet.nodes[0].k3s.snapshotSchedule = ${JSON.stringify(schedule)}: ${CALENDAR}`,
  ]),
  ...(
    [
      ["a comment that plants a wildcard line", `${HOST_KEY} x\n* ${HOST_KEY}`],
      ["a '*' in its comment", `${HOST_KEY} *`],
      ["a trailing line break", `${HOST_KEY}\n`],
      ["two spaces after its type", HOST_KEY.replace(" ", "  ")],
    ] as const
  ).map(([what, key]): [string, (f: Raw) => void, string] => [
    `a host key with ${what}`,
    (f) => (f.nodes[1].sshHostKey = key),
    `fleet.nodes[1].sshHostKey = ${JSON.stringify(key)}: ${HOST_KEY_PROBLEM}`,
  ]),
  ...["nobody", "daemon", "sshd", "bin", "ollama", "clavitor", "systemd-network", "_apt"].map(
    (user): [string, (f: Raw) => void, string] => [
      `${user} as the admin user`,
      (f) => (f.ssh.adminUser = user),
      `fleet.ssh.adminUser = "${user}": ${ACCOUNT}`,
    ],
  ),
  ...(
    [
      [80, "is also the vault's and the k3s ingress' web port"],
      [443, "is also the vault's and the k3s ingress' web port"],
      [6443, "is also the k3s API"],
      [10250, "is also the kubelet"],
      [11434, "is also Ollama"],
      [51820, "is also the mesh's WireGuard port (mesh.listenPort)"],
    ] as const
  ).map(([port, message]): [string, (f: Raw) => void, string] => [
    `ssh.port ${port}`,
    (f) => (f.ssh.port = port),
    `fleet.ssh.port = ${port}: ${message}, ${SSH_PORT_FIX}`,
  ]),
  [
    "ssh.port opened to clients by an access rule",
    (f) => {
      f.ssh.port = 2222;
      f.access[0].tcp = [11434, 2222];
    },
    `fleet.ssh.port = 2222: is also opened by fleet.access[0].tcp, ${SSH_PORT_FIX}`,
  ],
  ...["10.20.0.0/24", "10.20.0.128/25", "10.20.0.0/16"].map(
    (cidr): [string, (f: Raw) => void, string] => [
      `break-glass ${cidr} over the mesh`,
      (f) => (f.ssh.breakGlassCidrs = [cidr]),
      `fleet.ssh.breakGlassCidrs[0] = "${cidr}": overlaps mesh.cidr 10.20.0.0/24, so mesh peers (clients too) would reach sshd as break-glass. Fix: list the operator's public networks only; mesh sources get SSH through ssh.allowFrom.`,
    ],
  ),
  [
    "public flannel VXLAN without consent",
    (f) => (f.nodes[1].publicUdpPorts = [8472]),
    'fleet.nodes[1].publicUdpPorts[0] = 8472: opens flannel (UDP 8472) to the internet, which is mesh-only unless explicitly allowed. Fix: remove it, or add "flannel" to fleet.nodes[1].allowPublic if web must expose it.',
  ],
  [
    "a public kubelet without consent",
    (f) => (f.nodes[1].publicTcpPorts = [10250]),
    'fleet.nodes[1].publicTcpPorts[0] = 10250: opens kubelet (TCP 10250) to the internet, which is mesh-only unless explicitly allowed. Fix: remove it, or add "kubelet" to fleet.nodes[1].allowPublic if web must expose it.',
  ],
  [
    "two ingress names that differ by . and -",
    (f) => k3s(f, { ingressHosts: ["a.b.example.com", "a-b.example.com"] }),
    `fleet.nodes[0].k3s.ingressHosts[1] = "a-b.example.com": names the same DNS records ("a-b") as a.b.example.com: ${INGRESS_FIX}`,
  ],
  [
    "two ingress names that differ by their zone",
    (f) => {
      f.dns.zones = ["example.com", "example.net"];
      k3s(f, { ingressHosts: ["app.example.com", "app.example.net"] });
    },
    `fleet.nodes[0].k3s.ingressHosts[1] = "app.example.net": names the same DNS records ("app") as app.example.com: ${INGRESS_FIX}`,
  ],
  [
    "an ingress name whose record part is the apex's",
    (f) => k3s(f, { ingressHosts: ["example.com", "apex.example.com"] }),
    `fleet.nodes[0].k3s.ingressHosts[1] = "apex.example.com": names the same DNS records ("apex") as example.com: ${INGRESS_FIX}`,
  ],
  ...["0644", "0666", "600"].map((mode): [string, (f: Raw) => void, string] => [
    `a kubeconfig of mode ${mode}`,
    (f) => k3s(f, { writeKubeconfigMode: mode }),
    `fleet.nodes[0].k3s.writeKubeconfigMode = "${mode}": would let other accounts on the node read the cluster-admin kubeconfig. Fix: use "0600" (or "0640" for root's group).`,
  ]),
  ...[
    ["10.42.0.0/16", "10.42.0.0/16"],
    ["10.42.0.0/16", "10.42.128.0/17"],
  ].map(([cluster, service]): [string, (f: Raw) => void, string] => [
    `clusterCidr ${cluster} and serviceCidr ${service}`,
    (f) => k3s(f, { clusterCidr: cluster, serviceCidr: service }),
    `fleet.nodes[0].k3s.serviceCidr = "${service}": overlaps k3s.clusterCidr ${cluster}: a service address would also be a pod's. Fix: give pods and services ranges of their own, such as 10.42.0.0/16 and 10.43.0.0/16.`,
  ]),
  ...(
    [
      ["0.0.0.0", "'this network' (0.0.0.0/8)"],
      ["127.0.0.1", "loopback (127.0.0.0/8)"],
      ["255.255.255.255", "reserved or broadcast (240.0.0.0/4, 255.255.255.255)"],
      ["240.1.2.3", "reserved or broadcast (240.0.0.0/4, 255.255.255.255)"],
      ["224.0.0.1", "multicast (224.0.0.0/4)"],
      ["169.254.169.254", "link-local (169.254.0.0/16)"],
    ] as const
  ).map(([ip, what]): [string, (f: Raw) => void, string] => [
    `publicIp ${ip}`,
    (f) => (f.nodes[1].publicIp = ip),
    `fleet.nodes[1].publicIp = "${ip}": is ${what}, ${UNREACHABLE}`,
  ]),
  ...[
    "https://dl/x?a=1&b=2;touch${IFS}/tmp/pwned",
    "https://dl.example.com/x'y",
    'https://dl.example.com/x"y',
    "https://dl.example.com/x`id`",
    "https://dl.example.com/x y",
    "https://dl.example.com/x\ny",
    "http://dl.example.com/x",
    "https://user:pw@dl.example.com/x",
    "https:///x",
    "/tmp/a b",
    "relative/path",
  ].map((url): [string, (f: Raw) => void, string] => [
    `vault.binaryUrl ${JSON.stringify(url)}`,
    (f) => (f.nodes[1].vault.binaryUrl = url),
    `fleet.nodes[1].vault.binaryUrl = ${JSON.stringify(url)}: ${URL_PROBLEM}`,
  ]),
  [
    "a k3s token generation below 0",
    (f) => k3s(f, { tokenGeneration: -1 }),
    "fleet.nodes[0].k3s.tokenGeneration = -1: is not a token generation. Fix: use a whole number from 0; raise it by one to rotate the cluster's join token.",
  ],
  [
    "a key generation that is not a whole number",
    (f) => (f.nodes[1].wireguardKeyGeneration = 1.5),
    "fleet.nodes[1].wireguardKeyGeneration = 1.5: is not a key generation. Fix: use a whole number from 0; raise it by one to rotate the node's WireGuard key.",
  ],
  [
    "a rotated key on a hub this machine reaches over its own tunnel",
    (f) => (f.nodes[0].wireguardKeyGeneration = 1),
    "fleet.nodes[0].wireguardKeyGeneration = 1: is reached over this machine's own tunnel to the mesh, which would lose it at its switch: the program cannot change this machine's peer during the push. Fix: give the fleet an \"entry\" node to manage it through, or leave wireguardKeyGeneration as it was.",
  ],
  [
    "a rotated key on a hub with public SSH, whose spokes this machine reaches over its own tunnel",
    (f) => {
      f.nodes[0].publicTcpPorts = [22];
      f.nodes[0].allowPublic = ["ssh"];
      f.nodes[0].wireguardKeyGeneration = 1;
    },
    "fleet.nodes[0].wireguardKeyGeneration = 1: is the hub, and 2 node(s) (gpu, web) are reached over this machine's own tunnel to it, which names its key: they would be lost at its switch, and the program cannot change this machine's peer during the push. Fix: give the fleet an \"entry\" node to manage them through, or leave wireguardKeyGeneration as it was.",
  ],
  [
    "a rotated key on a node this machine reaches over its own tunnel",
    (f) => {
      f.mesh.topology = "full-mesh";
      f.nodes[0].roles = [];
      f.nodes[2].publicIp = "198.51.100.30";
      f.nodes[1].wireguardKeyGeneration = 2;
    },
    "fleet.nodes[1].wireguardKeyGeneration = 2: is reached over this machine's own tunnel to the mesh, which would lose it at its switch: the program cannot change this machine's peer during the push. Fix: give the fleet an \"entry\" node to manage it through, or leave wireguardKeyGeneration as it was.",
  ],
];

test.each(cases)("rejects %s", (_name, mutate, expected) => {
  expect(problems(mutate)).toContain(expected);
});

// What the rules above must still let through: the stacks' values, and their ordinary variants.
test.each<[string, (f: Raw) => void]>([
  ["a data dir under /srv", (f) => (f.nodes[1].vault.dataDir = "/srv/clavitor")],
  ["a data dir under /opt", (f) => (f.nodes[1].vault.dataDir = "/opt/clavitor-data")],
  [
    "calendar expressions with weekdays, ranges and a time zone",
    (f) => {
      f.nodes[1].vault.integrityCheck = "Sat *-*-* 02:00:00 Europe/Zurich";
      k3s(f, { snapshotSchedule: "Mon..Fri 03:30" });
    },
  ],
  ["a calendar of steps", (f) => (f.nodes[1].vault.integrityCheck = "*-*-* *:0/15")],
  ["a shorthand", (f) => k3s(f, { snapshotSchedule: "weekly" })],
  ["a host key with a comment", (f) => (f.nodes[1].sshHostKey = `${HOST_KEY} root@web`)],
  [
    "a presigned URL full of & ; $ ( )",
    (f) =>
      (f.nodes[1].vault.binaryUrl =
        "https://b.s3.amazonaws.com/c?X-Amz-Credential=AK%2F2&X-Amz-Signature=ab;x=$(id)&y=(1)"),
  ],
  [
    "a binary on the operator's machine",
    (f) => (f.nodes[1].vault.binaryUrl = "/srv/builds/clavitor"),
  ],
  ["a kubeconfig for root's group", (f) => k3s(f, { writeKubeconfigMode: "0640" })],
  ["ssh on its own port", (f) => (f.ssh.port = 2222)],
  [
    "public flannel and kubelet with consent",
    (f) => {
      f.nodes[1].publicUdpPorts = [8472];
      f.nodes[1].publicTcpPorts = [10250];
      f.nodes[1].allowPublic = ["flannel", "kubelet"];
    },
  ],
  ["a TEST-NET address", (f) => (f.nodes[1].publicIp = "192.0.2.10")],
  ["distinct ingress names", (f) => k3s(f, { ingressHosts: ["a.example.com", "b.example.com"] })],
  [
    // The hub goes first and keeps its previous key until its own push (rotation.ts).
    "a rotated key on a hub-spoke mesh's entry node, which the hub is reached through",
    (f) => {
      f.nodes[1].roles = ["vault", "entry"];
      f.nodes[1].wireguardKeyGeneration = 1;
    },
  ],
  [
    "every key of a hub-spoke mesh with an entry node rotated at once",
    (f) => {
      f.nodes[1].roles = ["vault", "entry"];
      for (const n of f.nodes) n.wireguardKeyGeneration = 1;
    },
  ],
])("accepts %s", (_name, mutate) => {
  expect(problems(mutate)).toEqual([]);
});

test("every problem is listed at once, in one error thrown before anything else", () => {
  const fleet = smallFleet();
  fleet.nodes[0].provider = "hetzner";
  fleet.nodes[1].id = 3;
  fleet.nodes[2].ollama.models[0].name = "bad model";
  fleet.access[0].tcp = [99999];
  fleet.mesh.topology = "star";
  let thrown: unknown;
  try {
    validateFleet(fleet);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(FleetValidationError);
  const error = thrown as FleetValidationError;
  const paths = error.problems.map((p) => p.path);
  expect(paths).toEqual(
    expect.arrayContaining([
      "fleet.mesh.topology",
      "fleet.nodes[0].provider",
      "fleet.nodes[2].meshIp",
      "fleet.nodes[2].ollama.models[0].name",
      "fleet.access[0].tcp[0]",
    ]),
  );
  expect(error.message).toMatch(/^The fleet spec has \d+ problems:\n {2}1\. /);
  expect(error.message.split("\n")).toHaveLength(error.problems.length + 1);
});

test("a spoke's key may be rotated: the hub follows it, and the generation is kept", () => {
  const f = smallFleet();
  f.nodes[1].wireguardKeyGeneration = 3;
  const fleet = validateFleet(f);
  expect(fleet.nodes.find((n) => n.name === "web")?.wireguardKeyGeneration).toBe(3);
  expect(fleet.nodes.find((n) => n.name === "gpu")).not.toHaveProperty("wireguardKeyGeneration");
});

test("the hub's key may be rotated when the nodes are managed through an entry node", () => {
  const f = smallFleet();
  f.nodes[1].roles = ["vault", "entry"];
  f.nodes[0].wireguardKeyGeneration = 1;
  expect(collectProblems(f).problems).toEqual([]);
  // Together with a spoke's: the hub goes first, then the spoke's push follows it behind.
  f.nodes[2].wireguardKeyGeneration = 1;
  expect(collectProblems(f).problems).toEqual([]);
  expect(validateFleet(f).nodes.find((n) => n.name === "hub")?.wireguardKeyGeneration).toBe(1);
});

test("a full mesh's entry node may have its key rotated: the others follow it ahead", () => {
  const f = smallFleet();
  f.mesh.topology = "full-mesh";
  f.nodes[0].roles = [];
  f.nodes[2].publicIp = "198.51.100.30";
  f.nodes[1].roles = ["vault", "entry"];
  f.nodes[1].wireguardKeyGeneration = 1;
  expect(collectProblems(f).problems.map(formatProblem)).toEqual([]);
});

test("a leaving host is out of the mesh's nodes, and listed as leaving", () => {
  const fleet = smallFleet();
  fleet.nodes[1].decommission = true;
  const valid = validateFleet(fleet);
  expect(valid.nodes.map((n) => n.name)).toEqual(["gpu", "hub"]);
  expect(valid.leaving.map((n) => n.name)).toEqual(["web"]);
});

test("a structurally broken node does not hide problems in the others", () => {
  const lines = problems((f) => {
    f.nodes[0].roles = "hub"; // a string, not a list
    f.nodes[2].region = "Office Room";
  });
  expect(lines).toContain(
    'fleet.nodes[0].roles = "hub": should be an array. Fix: write it as an array.',
  );
  expect(lines).toContain(
    'fleet.nodes[2].region = "Office Room": is not a plain label. Fix: describe where the host is, such as "hostkey-zurich".',
  );
});

test("a missing fleet is one clear problem", () => {
  expect(collectProblems(undefined).problems.map(formatProblem)).toEqual([
    "fleet = (missing): is required. Fix: add it (an object).",
  ]);
});

describe("the nixpkgs pin", () => {
  const pin = (sha256: string) => {
    const fleet = smallFleet();
    fleet.nixpkgs.sha256 = sha256;
    return validateFleet(fleet).nixpkgs;
  };

  test("names the archive of its commit, and the tree's hash in both of Nix's spellings", () => {
    expect(pin(NIXPKGS.sha256)).toEqual({
      branch: "nixos-26.05",
      release: "26.05",
      rev: NIXPKGS.rev,
      url: `https://github.com/NixOS/nixpkgs/archive/${NIXPKGS.rev}.tar.gz`,
      sha256: NIXPKGS.sha256,
      narHash: "sha256-vjFE9pS6wK3ezcad8rqjxLXYnzvTWMFf/m8WhHR6M7g=",
    });
  });

  test("an SRI hash is the same pin as its base32 spelling", () => {
    expect(pin("sha256-vjFE9pS6wK3ezcad8rqjxLXYnzvTWMFf/m8WhHR6M7g=")).toEqual(pin(NIXPKGS.sha256));
  });

  test("a fleet without NixOS nodes needs none", () => {
    const fleet = smallFleet();
    delete fleet.nixpkgs;
    fleet.nodes[0].os = "debian";
    expect(collectProblems(fleet).problems).toEqual([]);
  });

  test("a node that names no stateVersion is installed at the current release", () => {
    expect(validateFleet(smallFleet()).nodes.find((n) => n.name === "hub")?.nixosStateVersion).toBe(
      "26.05",
    );
  });
});
