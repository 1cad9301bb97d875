// npm run synth: the contract later tools read, placeholders only where the deployment
// decides, and the same bytes on every run.
import { readFileSync, readdirSync, statSync, existsSync, writeFileSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_DIR, STACKS, stackSynthesis } from "./helpers/stacks";
import { run, tempDir } from "./helpers/run";
import { contains, parseCidr, parseIpv4 } from "../core/net/ipv4";

const tmp = tempDir("synth");
afterAll(() => tmp.remove());

function synthCli(stack: string, out: string, cwd = PROJECT_DIR) {
  return run("npx", ["tsx", join(PROJECT_DIR, "cli/synth.ts"), "--stack", stack, "--out", out], {
    cwd,
    timeoutMs: 60_000,
  });
}

function tree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return files;
}

test("the CLI writes byte-identical output on every run, and only what the stack holds", () => {
  const a = join(tmp.path, "a");
  const b = join(tmp.path, "b");
  expect(synthCli("clawd", a).status).toBe(0);
  expect(synthCli("clawd", b).status).toBe(0);
  // A node left over from an earlier run into the same folder is removed.
  mkdirSync(join(a, "nodes", "gone"), { recursive: true });
  writeFileSync(join(a, "nodes", "gone", "wg0.conf"), "stale");
  expect(synthCli("clawd", a).status).toBe(0);
  expect(tree(a)).toEqual(tree(b));
  expect(tree(a)).toEqual(stackSynthesis("clawd").files);
});

test("a bad stack fails with the validation messages and writes nothing", () => {
  const dir = join(tmp.path, "project");
  mkdirSync(dir);
  writeFileSync(join(dir, "Pulumi.yaml"), "name: clawd-mesh\nruntime: nodejs\n");
  const broken = readFileSync(join(PROJECT_DIR, "Pulumi.clawd.yaml"), "utf8").replace(
    "provider: existing",
    "provider: hetzner",
  );
  writeFileSync(join(dir, "Pulumi.broken.yaml"), broken);
  const r = run(
    "npx",
    [
      "tsx",
      join(PROJECT_DIR, "cli/synth.ts"),
      "--stack",
      "broken",
      "--out",
      join(dir, "out"),
      "--project",
      dir,
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(
    'fleet.nodes[0].provider = "hetzner": is not a known provider. Fix: use one of: vultr, aws, existing.',
  );
  expect(existsSync(join(dir, "out"))).toBe(false);
});

describe.each(STACKS.filter((s) => s !== "all-features"))("stack %s", (stack) => {
  const s = () => stackSynthesis(stack);
  const fleetJson = () => JSON.parse(s().files.get("fleet.json") ?? "{}");

  test("fleet.json follows the contract", () => {
    const doc = fleetJson();
    expect(Object.keys(doc.mesh).sort()).toEqual(["cidr", "listenPort", "name", "topology"]);
    for (const n of doc.nodes) {
      for (const key of [
        "name",
        "provider",
        "region",
        "os",
        "roles",
        "meshIp",
        "publicIp",
        "dnsName",
        "publicTcpPorts",
        "publicUdpPorts",
        "meshAccess",
      ]) {
        expect(n).toHaveProperty(key);
      }
      expect(n.publicIp === null || typeof n.publicIp === "string").toBe(true);
      if (n.provider !== "existing") expect(n.publicIp).toBeNull();
      for (const a of n.meshAccess)
        expect(Object.keys(a)).toEqual(expect.arrayContaining(["from", "tcpPorts", "udpPorts"]));
    }
  });

  // What the input_allow chain does with an echo request from the internet (no source
  // address match, not the mesh interface): the verdict of the first line that matches it.
  const echoVerdict = (nft: string, family: "icmp" | "icmpv6"): string => {
    const body = /\tchain input_allow \{\n([\s\S]*?)\n\t\}/.exec(nft)?.[1] ?? "";
    for (const line of body.split("\n").map((l) => l.trim())) {
      if (/^(ip6? saddr|iifname)/.test(line) || !line.startsWith(`${family} type`)) continue;
      const m = /^\S+ type (!= )?(\{[^}]*\}|\S+) (accept|drop)/.exec(line);
      if (!m) continue;
      const listed = (m[2] ?? "")
        .replace(/[{}]/g, "")
        .split(",")
        .map((t) => t.trim());
      if (listed.includes("echo-request") !== Boolean(m[1])) return m[3] ?? "";
    }
    return "policy drop";
  };

  test("an echo request from the internet is dropped, over IPv6 as over IPv4", () => {
    for (const node of s().plan.nodes) {
      const nft = s().files.get(`nodes/${node.name}/nftables.conf`) ?? "";
      expect([node.name, echoVerdict(nft, "icmp")]).toEqual([node.name, "policy drop"]);
      expect([node.name, echoVerdict(nft, "icmpv6")]).toEqual([node.name, "drop"]);
    }
  });

  test("every node has its files; NixOS nodes have their configuration and modules", () => {
    for (const node of s().plan.nodes) {
      const files = [...s().files.keys()].filter((f) => f.startsWith(`nodes/${node.name}/`));
      const names = files.map((f) => f.slice(`nodes/${node.name}/`.length));
      expect(names).toEqual(expect.arrayContaining(["wg0.conf", "sshd_config", "nftables.conf"]));
      if (node.os === "nixos") {
        expect(names).toEqual(
          expect.arrayContaining([
            "configuration.nix",
            "node.json",
            "clawd-mesh/default.nix",
            "clawd-mesh/lib.nix",
            "clawd-mesh/options.nix",
            // The catalog's vocabularies, which options.nix reads.
            "clawd-mesh/catalog.json",
          ]),
        );
      } else {
        expect(names.some((n) => n.endsWith(".nix"))).toBe(false);
      }
    }
  });

  test("no private key anywhere; cloud addresses are TEST-NET-3 placeholders", () => {
    const testNet = parseCidr("203.0.113.0/24")!;
    for (const [path, content] of s().files) {
      expect([path, /PrivateKey\s*=|PRIVATE KEY/.test(content)]).toEqual([path, false]);
    }
    for (const node of s().plan.nodes) {
      if (node.provider === "existing") continue;
      expect(contains(testNet, parseIpv4(node.publicIp ?? "")!)).toBe(true);
    }
  });
});
