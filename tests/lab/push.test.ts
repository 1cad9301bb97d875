// Pushes in the lab (stack clawd): quiet changes, and four faults that must each end with the
// node back on its previous configuration by itself, the run failing with a clear message,
// and nothing lost on the other nodes.
import { randomBytes } from "node:crypto";
import type { Lab, StepResult } from "../../lab/lab";
import type { BundleFiles } from "../../core/render/pushArchive";
import { wireguardPublicKey } from "../../core/crypto/keys";
import { LAB_WINDOW, mismatches, probeMatrix, startLab, stopLab } from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("clawd");
}, 300_000);
afterAll(() => stopLab());

const host = (node: string) => lab.nodes.get(node)!;
const installed = (node: string) => ({
  "wg0.conf": host(node).run("cat", ["/etc/wireguard/wg0.conf"]),
  "nftables.conf": host(node).run("cat", ["/etc/nftables.conf"]),
  sshd_config: host(node).run("cat", ["/etc/ssh/sshd_config"]),
});
const expectOnBundle = (node: string, bundle: BundleFiles) => {
  const files = installed(node);
  for (const [name, content] of Object.entries(files)) {
    expect([node, name, content === bundle[name]]).toEqual([node, name, true]);
  }
};
const runtime = (node: string) => ({
  wireguardGo: host(node).run("pgrep", ["-x", "wireguard-go"]).trim(),
  sshd: host(node).run("cat", ["/run/sshd.pid"]).trim(),
  // The interface's index: a new interface (a restart) would have a new one.
  link: host(node).run("ip", ["-o", "link", "show", "wg0"]).split(":")[0],
});
const handshakes = (node: string) =>
  Object.fromEntries(
    host(node)
      .run("wg", ["show", "wg0", "latest-handshakes"])
      .trim()
      .split("\n")
      .map((l) => l.split("\t")),
  );

/**
 * Waits until the node has put its previous configuration back and answers over its
 * management path again; returns how long that took. (After a rollback a tunnel needs a new
 * handshake, and WireGuard allows a peer one initiation per 5 s.)
 */
async function rolledBack(node: string, since: number): Promise<number> {
  const deadline = Date.now() + (LAB_WINDOW + 40) * 1000;
  while (Date.now() < deadline) {
    const pending = host(node).try("test", ["-e", "/var/lib/clawd-mesh/pending"]).status === 0;
    if (!pending && (await lab.ssh(node, "true")).status === 0) return (Date.now() - since) / 1000;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${node} did not come back within ${LAB_WINDOW + 40} s`);
}

const recovery: Record<string, number> = {};
const push = (node: string, bundle: BundleFiles): Promise<StepResult> =>
  lab.push(node, { bootstrap: false, alias: node, confirmAlias: node, bundle });

async function expectNothingLost(): Promise<void> {
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
  for (const node of ["clawd", "brutus", "nexus", "plutos"]) {
    expect([node, (await lab.ssh(node, "echo alive")).stdout.trim()]).toEqual([node, "alive"]);
  }
}

describe("quiet changes", () => {
  test("pushing the same bundle again changes nothing and restarts nothing", async () => {
    const before = { ...runtime("brutus"), handshakes: handshakes("brutus") };
    const again = await push("brutus", lab.bundleOf("brutus"));
    expect([again.ok, again.message]).toEqual([true, "unchanged"]);
    expect({ ...runtime("brutus"), handshakes: handshakes("brutus") }).toEqual(before);
  }, 120_000);

  test("a WireGuard change goes through wg syncconf: the tunnels that stay are not dropped", async () => {
    const transfer = () =>
      Object.fromEntries(
        host("brutus")
          .run("wg", ["show", "wg0", "transfer"])
          .trim()
          .split("\n")
          .map((l) => l.split("\t"))
          .map(([peer, rx, tx]): [string, number] => [peer ?? "", Number(rx) + Number(tx)]),
      );
    const before = { runtime: runtime("brutus"), transfer: transfer() };
    // Traffic from clawd to brutus, across the whole change: five pings a second.
    const brutusIp = lab.lab.fleet.nodes.find((n) => n.name === "brutus")!.meshIp;
    const pings = host("clawd").runAsync("ping", ["-n", "-q", "-i", "0.2", "-w", "8", brutusIp], {
      timeoutMs: 20_000,
    });
    // A new client peer for brutus: brutus gains one peer, keeps the others.
    const key = wireguardPublicKey(randomBytes(32).toString("base64"));
    lab.replan((fleet) => ({
      ...fleet,
      peers: [
        ...fleet.peers,
        { name: "tablet", group: "clients", meshIp: "10.0.0.50", publicKey: key },
      ],
      access: [
        ...fleet.access,
        {
          from: [{ kind: "peer", name: "tablet" }],
          to: [{ kind: "node", name: "brutus" }],
          tcp: [11434],
          udp: [],
          ping: false,
        },
      ],
    }));
    const changed = await push("brutus", lab.bundleOf("brutus"));
    expect(changed.ok).toBe(true);
    expect(changed.message).toMatch(/^confirmed /);
    expect(host("brutus").run("wg", ["show", "wg0", "peers"])).toContain(key);
    // Each peer that stayed kept its entry: its counters went on from where they were.
    const after = transfer();
    for (const [peer, bytes] of Object.entries(before.transfer)) {
      expect([peer, (after[peer] ?? 0) >= bytes]).toEqual([peer, true]);
    }
    expect(runtime("brutus")).toEqual(before.runtime);
    const ping = await pings;
    expect(ping.stdout).toMatch(/ 0% packet loss/);
    lab.replan((fleet) => ({
      ...fleet,
      peers: fleet.peers.filter((p) => p.name !== "tablet"),
      access: fleet.access.filter(
        (a) => !a.from.some((s) => s.kind === "peer" && s.name === "tablet"),
      ),
    }));
    expect((await push("brutus", lab.bundleOf("brutus"))).ok).toBe(true);
  }, 180_000);
});

describe("faults, each recovering by itself", () => {
  afterAll(() => {
    console.log(
      `recovery times (rollback window ${LAB_WINDOW} s): ${Object.entries(recovery)
        .map(([fault, s]) => `${fault} ${s.toFixed(1)} s`)
        .join(", ")}`,
    );
  });

  test("a bundle with a wrong WireGuard peer key", async () => {
    const good = lab.bundleOf("brutus");
    const clawdKey = lab.lab.nodes.find((n) => n.spec.name === "clawd")!.wg.publicKey;
    const wrong = wireguardPublicKey(randomBytes(32).toString("base64"));
    const bad = { ...good, "wg0.conf": (good["wg0.conf"] ?? "").replace(clawdKey, wrong) };
    const started = Date.now();
    const result = await push("brutus", bad);
    expect(result.ok).toBe(false);
    // The switch cut brutus off from clawd, the jump host: the push's own session died with it.
    expect(result.message).toMatch(/connection was lost during the switch|no WireGuard handshake/);
    recovery["wrong peer key"] = await rolledBack("brutus", started);
    expectOnBundle("brutus", good);
    await expectNothingLost();
  }, 180_000);

  test("a bundle whose firewall drops the management path", async () => {
    const good = lab.bundleOf("brutus");
    const clawdIp = lab.lab.fleet.nodes.find((n) => n.name === "clawd")!.meshIp;
    const rule = `ip saddr ${clawdIp} tcp dport { 22, 11434 } accept`;
    expect(good["nftables.conf"]).toContain(rule);
    const bad = {
      ...good,
      "nftables.conf": (good["nftables.conf"] ?? "").replace(
        rule,
        `ip saddr ${clawdIp} tcp dport 11434 accept`,
      ),
    };
    const started = Date.now();
    const result = await push("brutus", bad);
    expect(result.ok).toBe(false);
    // The running session survived (established), but no new connection gets through.
    expect(result.step).toBe("push confirmation");
    expect(result.message).toMatch(/already rolled back|timed out|Connection/i);
    recovery["firewall drops the management path"] = await rolledBack("brutus", started);
    expectOnBundle("brutus", good);
    await expectNothingLost();
  }, 180_000);

  test("a bundle with an sshd config that fails validation", async () => {
    const good = lab.bundleOf("brutus");
    const bad = { ...good, sshd_config: `${good.sshd_config}PermitRootLogin sometimes\n` };
    const started = Date.now();
    const result = await push("brutus", bad);
    expect(result.ok).toBe(false);
    expect(result.message).toContain("sshd -t rejected the new sshd_config; nothing was changed");
    // Refused before anything changed: nothing to roll back.
    expect(host("brutus").try("test", ["-e", "/var/lib/clawd-mesh/pending"]).status).not.toBe(0);
    recovery["sshd config fails validation"] = (Date.now() - started) / 1000;
    expectOnBundle("brutus", good);
    await expectNothingLost();
  }, 120_000);

  test("a node that does not answer at all", async () => {
    const good = lab.bundleOf("plutos");
    host("plutos").run("ip", ["link", "set", "eth0", "down"]);
    const started = Date.now();
    let result: StepResult;
    try {
      result = await push("plutos", good);
    } finally {
      host("plutos").run("ip", ["link", "set", "eth0", "up"]);
    }
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/no answer over SSH/);
    // Never reached: nothing was switched, and the node is back as soon as its link is.
    recovery["node does not answer"] = (Date.now() - started) / 1000;
    expectOnBundle("plutos", good);
    await expectNothingLost();
  }, 180_000);
});
