// The five systems of the seed documents, as their stacks plan them. Facts below are copied
// from the seeds' tables; each test names the seed section it holds the stack to.
import { stackSynthesis } from "./helpers/stacks";
import { parseNft } from "./helpers/nftParse";
import type { NodeModel } from "../core/plan/model";

const nodeOf = (stack: Parameters<typeof stackSynthesis>[0], name: string): NodeModel => {
  const node = stackSynthesis(stack).plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${stack} has no node ${name}`);
  return node;
};
const nft = (stack: Parameters<typeof stackSynthesis>[0], name: string) =>
  parseNft(stackSynthesis(stack).files.get(`nodes/${name}/nftables.conf`) ?? "");

describe("seed 000, Clawd Mesh", () => {
  test("§2.1 mesh addresses and §2.2 public endpoints", () => {
    const plan = stackSynthesis("clawd").plan;
    expect(plan.mesh.cidr).toBe("10.0.0.0/24");
    expect(Object.fromEntries(plan.nodes.map((n) => [n.name, [n.meshIp, n.publicIp]]))).toEqual({
      nexus: ["10.0.0.1", null],
      clawd: ["10.0.0.2", "85.215.46.147"],
      brutus: ["10.0.0.3", "87.106.6.144"],
      plutos: ["10.0.0.4", "87.106.3.190"],
    });
    expect(nodeOf("clawd", "clawd").firewall.publicTcpPorts).toEqual([22, 9092]);
    expect(nodeOf("clawd", "plutos").firewall.publicTcpPorts).toEqual([22, 11434]);
    expect(nodeOf("clawd", "brutus").firewall.publicTcpPorts).toEqual([]);
    expect(nodeOf("clawd", "nexus").firewall.publicTcpPorts).toEqual([]);
  });

  test("§6.1 brutus and nexus have no public SSH; their sshd binds the mesh address only", () => {
    for (const name of ["brutus", "nexus"]) {
      expect(nft("clawd", name).public.has("tcp|22")).toBe(false);
      expect(nodeOf("clawd", name).ssh.listenAddresses).toEqual([nodeOf("clawd", name).meshIp]);
      expect(nft("clawd", name).mesh.has("10.0.0.2|tcp|22")).toBe(true); // ProxyJump from clawd
    }
  });

  test("§3.4 nexus has no public address: it dials every peer and keeps the path open", () => {
    const nexus = nodeOf("clawd", "nexus");
    expect(nexus.wireguard.peers.map((p) => [p.name, p.endpoint, p.persistentKeepalive])).toEqual([
      ["clawd", "85.215.46.147:51820", 25],
      ["brutus", "87.106.6.144:51820", 25],
      ["plutos", "87.106.3.190:51820", 25],
    ]);
    for (const other of ["clawd", "brutus", "plutos"]) {
      const toNexus = nodeOf("clawd", other).wireguard.peers.find((p) => p.name === "nexus");
      expect(toNexus?.endpoint).toBeUndefined();
    }
  });

  test("§4.1 the operator's ssh config", () => {
    const hosts = Object.fromEntries(
      (stackSynthesis("clawd").files.get("ssh_config") ?? "")
        .split(/\n\n/)
        .filter((b) => b.startsWith("Host "))
        .map((b) => {
          const f = Object.fromEntries(b.split("\n").map((l) => l.trim().split(/\s+/)));
          return [f.Host, [f.HostName, f.User, f.ProxyJump ?? "-"]];
        }),
    );
    expect(hosts).toEqual({
      clawd: ["85.215.46.147", "boss", "-"],
      nexus: ["10.0.0.1", "boss", "clawd"],
      brutus: ["10.0.0.3", "boss", "clawd"],
      plutos: ["87.106.3.190", "boss", "-"],
    });
  });

  test("§5 one Ollama model per node, served on the mesh address (plutos: by consent, everywhere)", () => {
    const models = (name: string) =>
      stackSynthesis("clawd").fleet.nodes.find((n) => n.name === name)?.ollama?.models;
    expect(models("clawd")).toEqual([
      { name: "mistral:7b-instruct-v0.3-q4_K_M", purpose: "general" },
    ]);
    expect(models("brutus")).toEqual([{ name: "qwen2.5-coder:3b", purpose: "coding" }]);
    expect(models("plutos")).toEqual([{ name: "llama3.1:8b-instruct-q4_K_M", purpose: "heavy" }]);
    expect(nodeOf("clawd", "brutus").ollama).toEqual({
      host: "10.0.0.3",
      port: 11434,
      models: ["qwen2.5-coder:3b"],
    });
    expect(nodeOf("clawd", "plutos").ollama?.host).toBe("0.0.0.0");
  });
});

describe("seed 001, Clavitor", () => {
  const plan = () => stackSynthesis("clavitor").plan;

  test("16 NixOS nodes: 13 on Vultr in the seed's cities, 3 existing at Hostkey", () => {
    expect(plan().nodes).toHaveLength(16);
    expect(plan().nodes.every((n) => n.os === "nixos" && n.roles.includes("vault"))).toBe(true);
    const vultr = plan()
      .nodes.filter((n) => n.provider === "vultr")
      .map((n) => n.region)
      .sort();
    expect(vultr).toEqual([
      "bom",
      "dfw",
      "ewr",
      "fra",
      "icn",
      "jnb",
      "lhr",
      "nrt",
      "sao",
      "sjc",
      "syd",
      "tlv",
      "waw",
    ]);
    expect(
      plan()
        .nodes.filter((n) => n.provider === "existing")
        .map((n) => n.name)
        .sort(),
    ).toEqual(["amsterdam", "dubai", "zurich"]);
  });

  test("hub in Zurich at 10.84.0.1 on UDP 51820; spokes dial it, as the seed's template does", () => {
    const zurich = nodeOf("clavitor", "zurich");
    expect(zurich.meshIp).toBe("10.84.0.1");
    expect(zurich.wireguard.listenPort).toBe(51820);
    expect(zurich.wireguard.forwarding).toBe(true);
    for (const spoke of plan().nodes.filter((n) => n.name !== "zurich")) {
      expect(spoke.wireguard.peers).toEqual([
        {
          name: "zurich",
          publicKey: expect.any(String),
          allowedIps: ["10.84.0.0/24"],
          endpoint: "192.0.2.10:51820",
          persistentKeepalive: 25,
        },
      ]);
    }
  });

  test("public: 80 and 443 only (and the hub's WireGuard port); SSH on 10.84.0.x only", () => {
    for (const node of plan().nodes) {
      const facts = nft("clavitor", node.name);
      const wg = node.name === "zurich" ? ["udp|51820"] : [];
      expect(facts.public).toEqual(new Set(["tcp|80", "tcp|443", ...wg]));
      expect(node.ssh.listenAddresses).toEqual([node.meshIp]);
      expect(node.meshIp.startsWith("10.84.0.")).toBe(true);
      expect(facts.breakGlass.size).toBe(0);
    }
  });

  test("DNS names are <city>.clavitor.com", () => {
    for (const node of plan().nodes) expect(node.dnsName).toBe(`${node.name}.clavitor.com`);
  });
});

describe("seed 002, self-sovereign-ollama", () => {
  test("only the WireGuard UDP port is public; 11434 is never forwarded to the internet", () => {
    expect(nft("ollama-home", "ai").public).toEqual(new Set(["udp|51820"]));
  });

  test("clients may reach 11434 on the AI server and nothing else; the admin may SSH", () => {
    expect(nft("ollama-home", "ai").mesh).toEqual(
      new Set([
        "10.10.10.10|tcp|22",
        "10.10.10.10|icmp",
        "10.10.10.21|tcp|11434",
        "10.10.10.22|tcp|11434",
      ]),
    );
  });

  test("the server routes nothing between clients (VPN → other devices: deny)", () => {
    const ai = nodeOf("ollama-home", "ai");
    expect(ai.wireguard.forwarding).toBe(true);
    expect(nft("ollama-home", "ai").forward.size).toBe(0);
    expect(stackSynthesis("ollama-home").files.get("nodes/ai/nftables.conf")).toContain(
      "type filter hook forward priority filter; policy drop;",
    );
  });

  test("Ollama binds the mesh address", () => {
    expect(nodeOf("ollama-home", "ai").ollama).not.toBeNull();
    expect(nodeOf("ollama-home", "ai").meshIp).toBe("10.10.10.1");
  });
});

describe("seed 003, OpenClaw", () => {
  const server = () => nodeOf("openclaw", "server-1");

  test("the k3s server flags of the seed, over the mesh", () => {
    expect(server().k3s?.settings).toEqual([
      ["node-ip", "10.90.0.1"],
      ["flannel-iface", "wg0"],
      ["node-label", ["openclaw/role=server"]],
      ["advertise-address", "10.90.0.1"],
      ["tls-san", ["10.90.0.1", "203.0.113.1"]],
      ["cluster-cidr", "10.42.0.0/16"],
      ["service-cidr", "10.43.0.0/16"],
      ["disable", ["traefik", "servicelb"]],
      ["flannel-backend", "host-gw"],
      ["write-kubeconfig-mode", "0600"],
    ]);
    expect(server().k3s?.ingressHosts).toEqual([
      "app.openclaw.trustbit.co.in",
      "api.openclaw.trustbit.co.in",
      "proxy.openclaw.trustbit.co.in",
      "nango.openclaw.trustbit.co.in",
    ]);
  });

  test("6443 is closed publicly and open on the mesh to the operator", () => {
    const facts = nft("openclaw", "server-1");
    expect(facts.public).toEqual(new Set(["tcp|80", "tcp|443", "udp|51820"]));
    expect(facts.mesh.has("10.90.0.100|tcp|6443")).toBe(true);
  });

  test("t3.medium in us-east-1 with NixOS", () => {
    const fleet = stackSynthesis("openclaw").fleet.nodes[0]!;
    expect([
      fleet.provider,
      fleet.region,
      fleet.instanceType,
      fleet.os,
      fleet.aws?.rootVolumeGb,
    ]).toEqual(["aws", "us-east-1", "t3.medium", "nixos", 30]);
  });
});

describe("prod, the combined fleet", () => {
  test("one hub in Zurich, clawd as the SSH entry, every node reachable for management", () => {
    const plan = stackSynthesis("prod").plan;
    expect(plan.nodes.filter((n) => n.roles.includes("hub")).map((n) => n.name)).toEqual([
      "zurich",
    ]);
    expect(plan.nodes.filter((n) => n.roles.includes("entry")).map((n) => n.name)).toEqual([
      "clawd",
    ]);
    for (const node of plan.nodes) {
      const facts = nft("prod", node.name);
      const managed = facts.public.has("tcp|22") || facts.mesh.has(`10.84.0.200|tcp|22`);
      expect([node.name, managed]).toEqual([node.name, true]);
    }
  });
});
