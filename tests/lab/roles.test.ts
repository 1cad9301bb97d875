// Roles in the lab, brought up by the program through the engine, with stand-ins where the
// real programs cannot run here (say so: an HTTP server where Ollama would listen, a listener
// and a kubeconfig where k3s would be, a script as the vault binary). The firewall, the pushes,
// the sha256 check and the program's own vault rollout around them are real.
import { readFileSync } from "node:fs";
import type { Lab } from "../../lab/lab";
import { INTERNET_NETNS } from "../../lab/network";
import { vaultBinary } from "../../lab/standins";
import { checkpointFile } from "../../lab/engine/stacks";
import { reveal } from "../../lab/engine/values";
import { run } from "../helpers/run";
import { loadStackFleet } from "../../core/fleet/load";
import { PROJECT_DIR } from "../helpers/stacks";
import { startLab, stopLab, tail } from "../helpers/lab";

/** An HTTP GET from inside a namespace; the body, or undefined when nothing answered. */
function get(netns: string, url: string): string | undefined {
  // -k: the k3s stand-in serves TLS with a CA of its own, as k3s does.
  const r = run("ip", ["netns", "exec", netns, "curl", "-sk", "--max-time", "3", url], {
    timeoutMs: 10_000,
  });
  return r.status === 0 ? r.stdout : undefined;
}

describe("vault (seed 001): the program's rollout, the sha256 check, service user and file modes", () => {
  let lab: Lab;
  const order = ["amsterdam", "dallas", "dubai", "zurich"]; // by name, the hub last
  beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const clavitor = loadStackFleet(PROJECT_DIR, "clavitor") as any;
    const four = {
      ...clavitor,
      nodes: clavitor.nodes.filter((n: { name: string }) => order.includes(n.name)),
    };
    lab = await startLab("clavitor", { fleet: four });
  }, 600_000);
  afterAll(() => stopLab());

  const installed = (node: string) => lab.nodeHost(node)!.run("cat", ["/opt/clavitor/clavitor"]);
  const health = (node: string) => {
    const ip = lab.fleet().nodes.find((n) => n.name === node)!.meshIp;
    const body = get(lab.site.operator().netns, `http://${ip}/health`);
    return body === undefined
      ? undefined
      : (JSON.parse(body) as { version: string; healthy: boolean });
  };
  /** The binary the next up rolls out, as an operator sets it in the stack. */
  const rollOut = (path: string, sha256: string) => {
    lab.site.assignments.vault = { path, sha256 };
    lab.site.saveAssignments();
    return lab.engine("up");
  };

  test("the first up rolls the binary out node by node, the hub last, each healthy over the mesh", () => {
    const v1 = vaultBinary("v1");
    const rollout = checkpointFile("clavitor")
      .load("clavitor")
      .resources.find((r) => r.urn.endsWith("::clavitor-vault-rollout-command"));
    const stdout = String(reveal(rollout?.outputs.stdout ?? ""));
    const installedOrder = stdout.split("\n").filter((l) => l.endsWith(`installing ${v1.sha256}`));
    expect(installedOrder.map((l) => l.split(":")[1]?.trim())).toEqual(order);
    for (const node of order) {
      expect(installed(node)).toBe(readFileSync(v1.path, "utf8"));
      expect([node, health(node)?.version]).toEqual([node, "v1"]);
    }
  });

  test("the sha256 check refuses a binary that does not match; the node keeps the old one", async () => {
    const v1 = vaultBinary("v1");
    const v2 = vaultBinary("v2");
    const up = await rollOut(v2.path, v1.sha256);
    expect(up.ok).toBe(false);
    expect(tail(up, 60)).toContain(
      `sha256 mismatch: expected ${v1.sha256}, got ${v2.sha256}; keeping the current binary`,
    );
    expect(tail(up, 60)).toContain("rollout stopped at amsterdam");
    for (const node of order) {
      expect([
        node,
        installed(node) === readFileSync(v1.path, "utf8"),
        health(node)?.version,
      ]).toEqual([node, true, "v1"]);
    }
  }, 300_000);

  test("a rollout stops at the first unhealthy node; the nodes after it keep the old binary", async () => {
    const v1 = vaultBinary("v1");
    const v2 = vaultBinary("v2");
    // dallas, second in line, will not answer healthy on v2.
    lab.nodeHost("dallas")!.run("sh", ["-c", "echo v2 >/var/lib/clavitor/lab-unhealthy"]);
    const up = await rollOut(v2.path, v2.sha256);
    expect(up.ok).toBe(false);
    expect(tail(up, 60)).toContain("rollout stopped at dallas: no healthy answer");
    expect(tail(up, 60)).toContain("2 node(s) after it keep the old binary");
    expect(installed("amsterdam")).toBe(readFileSync(v2.path, "utf8"));
    expect(health("amsterdam")?.version).toBe("v2");
    // dallas went back to v1 and answers again; dubai and zurich were never touched.
    expect(installed("dallas")).toBe(readFileSync(v1.path, "utf8"));
    expect(health("dallas")).toEqual({ standIn: "vault", version: "v1", healthy: true });
    for (const node of ["dubai", "zurich"]) {
      expect([
        node,
        installed(node) === readFileSync(v1.path, "utf8"),
        health(node)?.version,
      ]).toEqual([node, true, "v1"]);
    }
  }, 300_000);

  test("the vault runs as its own user, without a login shell; files have seed 004's modes", () => {
    const host = lab.nodeHost("amsterdam")!;
    expect(host.run("getent", ["passwd", "clavitor"]).trim()).toMatch(/:\/usr\/sbin\/nologin$/);
    const owner = host.run("sh", ["-c", 'ps -o user= -p "$(cat /run/clavitor.pid)"']).trim();
    expect(owner).toBe("clavitor");
    const mode = (path: string) => host.run("stat", ["-c", "%a %U", path]).trim();
    expect(mode("/etc/wireguard")).toBe("700 root");
    expect(mode("/etc/wireguard/wg0.key")).toBe("600 root");
    expect(mode("/etc/clawd-mesh")).toBe("700 root");
    expect(mode("/etc/clawd-mesh/clavitor.env")).toBe("600 root");
    expect(mode("/var/lib/clavitor")).toBe("700 clavitor");
    expect(mode("/etc/ssh/authorized_keys.d")).toBe("755 root");
    expect(mode("/etc/ssh/authorized_keys.d/soc")).toBe("644 root");
    expect(mode("/etc/ssh/ssh_host_ed25519_key")).toBe("600 root");
    // The admin may run one thing as root: the receiver.
    const sudo = host.run("sudo", ["-l", "-U", "soc"]);
    expect(sudo).toMatch(/\(root\) NOPASSWD: \/usr\/local\/sbin\/clawd-mesh-receive\s*$/);
    expect(sudo).not.toMatch(/\(ALL\)|ALL$/m);
  });
});

describe("Ollama (seed 002): the API answers only where the access rules say", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab("ollama-home");
  }, 300_000);
  afterAll(() => stopLab());

  test("bound to the mesh address; clients get answers, the admin and the internet do not", () => {
    const meshIp = lab.fleet().nodes.find((n) => n.name === "ai")!.meshIp;
    const url = `http://${meshIp}:11434/api/version`;
    const listening = lab.nodeHost("ai")!.run("ss", ["-Htln", "sport = :11434"]);
    expect(listening).toContain(`${meshIp}:11434`);
    for (const client of ["laptop", "phone"]) {
      expect([client, JSON.parse(get(lab.peerHost(client)!.netns, url) ?? "{}").standIn]).toEqual([
        client,
        "ollama",
      ]);
    }
    expect(get(lab.site.operator().netns, url)).toBeUndefined(); // admin: SSH and ping only
    const publicIp = lab.facts().get("ai")!.publicIpv4;
    expect(get(INTERNET_NETNS, `http://${publicIp}:11434/api/version`)).toBeUndefined();
  });
});

describe("k3s (seed 003): the API port is closed publicly and open on the mesh", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab("openclaw");
  }, 300_000);
  afterAll(() => stopLab());

  test("from the internet nothing answers on 6443; from the operator's laptop it does", () => {
    const meshIp = lab.fleet().nodes.find((n) => n.name === "server-1")!.meshIp;
    expect(lab.nodeHost("server-1")!.run("ss", ["-Htln", "sport = :6443"])).toMatch(
      /(0\.0\.0\.0|\*):6443/,
    );
    const publicIp = lab.facts().get("server-1")!.publicIpv4;
    expect(get(INTERNET_NETNS, `https://${publicIp}:6443/`)).toBeUndefined();
    const viaMesh = get(lab.site.operator().netns, `https://${meshIp}:6443/`);
    expect(JSON.parse(viaMesh ?? "{}").standIn).toBe("k3s");
  });

  test("the program read the kubeconfig back and rewrote it to the server's mesh address", () => {
    const meshIp = lab.fleet().nodes.find((n) => n.name === "server-1")!.meshIp;
    const k3s = lab.outputs().k3s as { kubeconfig: string; apiEndpoint: string };
    expect(k3s.apiEndpoint).toBe(`https://${meshIp}:6443`);
    expect(k3s.kubeconfig).toContain(`server: https://${meshIp}:6443`);
    expect(k3s.kubeconfig).not.toContain("127.0.0.1");
  });
});
