// Roles in the lab, with stand-ins where the real programs cannot run here (say so: an HTTP
// server where Ollama would listen, a listener on k3s's API port, a script as the vault
// binary). The firewall, the pushes, the sha256 check and the rollout around them are real.
import { readFileSync } from "node:fs";
import type { Lab } from "../../lab/lab";
import { INTERNET_NETNS } from "../../lab/network";
import { startK3sApi, startOllama, vaultBinary } from "../../lab/standins";
import { loadStackFleet } from "../../core/fleet/load";
import { validateFleet } from "../../core/fleet/validate";
import { run } from "../helpers/run";
import { PROJECT_DIR } from "../helpers/stacks";
import { startLab, stopLab } from "../helpers/lab";

/** An HTTP GET from inside a namespace; the body, or undefined when nothing answered. */
function get(netns: string, url: string): string | undefined {
  const r = run("ip", ["netns", "exec", netns, "curl", "-s", "--max-time", "3", url], {
    timeoutMs: 10_000,
  });
  return r.status === 0 ? r.stdout : undefined;
}

describe("vault (seed 001): rollout, sha256 check, service user and file modes", () => {
  let lab: Lab;
  const order = ["amsterdam", "dallas", "dubai", "zurich"]; // by name, the hub last
  beforeAll(async () => {
    const clavitor = validateFleet(loadStackFleet(PROJECT_DIR, "clavitor"));
    const four = { ...clavitor, nodes: clavitor.nodes.filter((n) => order.includes(n.name)) };
    lab = await startLab("clavitor", four);
  }, 300_000);
  afterAll(() => stopLab());

  const installed = (node: string) => lab.nodes.get(node)!.run("cat", ["/opt/clavitor/clavitor"]);
  const health = (node: string) => {
    const ip = lab.lab.fleet.nodes.find((n) => n.name === node)!.meshIp;
    const body = get(lab.operator.netns, `http://${ip}/health`);
    return body === undefined
      ? undefined
      : (JSON.parse(body) as { version: string; healthy: boolean });
  };

  test("a binary goes out node by node, the hub last, each healthy over the mesh", async () => {
    const v1 = vaultBinary("v1");
    const r = await lab.rollout(v1.path, v1.sha256);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const installedOrder = r.stdout
      .split("\n")
      .filter((l) => l.endsWith(`installing ${v1.sha256}`));
    expect(installedOrder.map((l) => l.split(":")[1]?.trim())).toEqual(order);
    for (const node of order) {
      expect(installed(node)).toBe(readFileSync(v1.path, "utf8"));
      expect([node, health(node)?.version]).toEqual([node, "v1"]);
    }
  }, 240_000);

  test("the sha256 check refuses a binary that does not match; the node keeps the old one", async () => {
    const v1 = vaultBinary("v1");
    const v2 = vaultBinary("v2");
    const r = await lab.rollout(v2.path, v1.sha256);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `sha256 mismatch: expected ${v1.sha256}, got ${v2.sha256}; keeping the current binary`,
    );
    expect(r.stderr).toContain("rollout stopped at amsterdam");
    for (const node of order) {
      expect([
        node,
        installed(node) === readFileSync(v1.path, "utf8"),
        health(node)?.version,
      ]).toEqual([node, true, "v1"]);
    }
  }, 240_000);

  test("a rollout stops at the first unhealthy node; the nodes after it keep the old binary", async () => {
    const v1 = vaultBinary("v1");
    const v2 = vaultBinary("v2");
    // dallas, second in line, will not answer healthy on v2.
    lab.nodes.get("dallas")!.run("sh", ["-c", "echo v2 >/var/lib/clavitor/lab-unhealthy"]);
    const r = await lab.rollout(v2.path, v2.sha256, undefined, 8);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("rollout stopped at dallas: no healthy answer");
    expect(r.stderr).toContain("2 node(s) after it keep the old binary");
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
  }, 240_000);

  test("the vault runs as its own user, without a login shell; files have seed 004's modes", () => {
    const host = lab.nodes.get("amsterdam")!;
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
    expect(startOllama(lab)).toEqual(["ai"]);
  }, 300_000);
  afterAll(() => stopLab());

  test("bound to the mesh address; clients get answers, the admin and the internet do not", async () => {
    const ai = lab.lab.nodes.find((n) => n.spec.name === "ai")!;
    const url = `http://${ai.spec.meshIp}:11434/api/version`;
    const listening = lab.nodes.get("ai")!.run("ss", ["-Htln", "sport = :11434"]);
    expect(listening).toContain(`${ai.spec.meshIp}:11434`);
    for (const client of ["laptop", "phone"]) {
      expect([
        client,
        JSON.parse(get(lab.peerHosts.get(client)!.netns, url) ?? "{}").standIn,
      ]).toEqual([client, "ollama"]);
    }
    expect(get(lab.operator.netns, url)).toBeUndefined(); // admin: SSH and ping only
    expect(get(INTERNET_NETNS, `http://${ai.publicIp}:11434/api/version`)).toBeUndefined();
  });
});

describe("k3s (seed 003): the API port is closed publicly and open on the mesh", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab("openclaw");
    expect(startK3sApi(lab)).toEqual(["server-1"]);
  }, 300_000);
  afterAll(() => stopLab());

  test("from the internet nothing answers on 6443; from the operator's laptop it does", async () => {
    const server = lab.lab.nodes.find((n) => n.spec.name === "server-1")!;
    expect(lab.nodes.get("server-1")!.run("ss", ["-Htln", "sport = :6443"])).toMatch(
      /(0\.0\.0\.0|\*):6443/,
    );
    expect(get(INTERNET_NETNS, `http://${server.publicIp}:6443/`)).toBeUndefined();
    const viaMesh = get(lab.operator.netns, `http://${server.spec.meshIp}:6443/`);
    expect(JSON.parse(viaMesh ?? "{}").standIn).toBe("k3s");
  });
});
