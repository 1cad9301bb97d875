// Day two for k3s: its join token rotated the way k3s supports it (`k3s token rotate`'s request
// to the running server), on seed 000's mesh with brutus as a k3s server and plutos as its
// agent, on hosts that boot systemd. k3s is stood in for (lab/standins.ts), as the unit
// k3s.service: its supervisor's TLS, the token it records, the passwords it checks until its
// next start, the rotation request and an agent's join, as k3s's handlers define them.
import type { Lab } from "../../lab/lab";
import { K3S_REQUESTS } from "../../lab/standins";
import type { RawFleet } from "../../lab/twin";
import { loadStackFleet } from "../../core/fleet/load";
import { change, pushes, report, until, upNotConfirmed } from "../helpers/dayTwo";
import { counts, LAB_WINDOW, NOTHING_CHANGED, startLab, stopLab, up } from "../helpers/lab";
import { PROJECT_DIR } from "../helpers/stacks";

let lab: Lab;
afterAll(() => console.log(`k3s join token:\n${report.join("\n")}`));

const NODES = ["nexus", "clawd", "brutus", "plutos"];
/** k3s's record of the server token it runs with, and the file the push installs. */
const RECORD = "/var/lib/rancher/k3s/server/token";
const TOKEN_FILE = "/etc/clawd-mesh/k3s-token";

/** clawd's stack with brutus a k3s server and plutos its agent, at this token generation. */
const cluster = (generation = 0): RawFleet => {
  const base = loadStackFleet(PROJECT_DIR, "clawd") as RawFleet;
  const nodes = (base.nodes as RawFleet[]).map((n) => {
    if (n.name === "brutus") {
      const k3s = { flannelBackend: "vxlan", ...(generation && { tokenGeneration: generation }) };
      return { ...n, roles: [...n.roles, "k3s-server"], k3s };
    }
    return n.name === "plutos" ? { ...n, roles: [...n.roles, "k3s-agent"] } : n;
  });
  return { ...base, nodes };
};

/** The password part of the token the server runs with (K10<CA hash>::server:<password>). */
const running = () =>
  lab
    .nodeHost("brutus")!
    .run("cat", [RECORD])
    .trim()
    .replace(/^.*::server:/, "");
const installed = (node: string) => lab.nodeHost(node)!.run("cat", [TOKEN_FILE]).trim();

/** The status of plutos's join with this token, over the mesh: user "node", as an agent. */
function joins(token: string): number {
  const ip = lab.fleet().nodes.find((n) => n.name === "brutus")!.meshIp;
  const status = lab
    .nodeHost("plutos")!
    .run(
      "curl",
      ["-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-"].concat(
        `https://${ip}:6443/v1-k3s/readyz`,
      ),
      { input: `user = "node:${token}"\n` },
    );
  return Number(status);
}

/** The rotation requests the server was sent so far, one line each (the stand-in's log). */
const requests = () =>
  lab.nodeHost("brutus")!.try("cat", [K3S_REQUESTS]).stdout.split("\n").filter(Boolean);

describe("k3s on clawd (seed 000): brutus the server, plutos its agent", () => {
  beforeAll(async () => {
    // Hosts that boot systemd: the stand-in runs as k3s.service, which the push restarts.
    lab = await startLab("clawd", { fleet: cluster(), hosts: "systemd" });
  }, 600_000);
  afterAll(() => stopLab());

  test("the first up: the server runs with the token the push installed, and the agent joins with it", () => {
    const token = running();
    expect(token).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(installed("brutus")).toBe(token);
    expect(installed("plutos")).toBe(token);
    expect(joins(token)).toBe(200);
    expect(joins(`${token.slice(0, -1)}x`)).toBe(401);
  });

  test("the join token rotated: the server takes the new one before its restart, then the agent's push; one up", async () => {
    const old = running();
    const asked = requests().length;
    const { run } = await change(lab, "rotate the k3s join token", cluster(1), NODES);
    expect(pushes(run)).toEqual(["brutus", "plutos"]);
    expect(counts(run)).toMatchObject({ created: 0, deleted: 0 });
    // The server was handed the token by one request, authenticated with the running token.
    expect(requests().slice(asked)).toEqual(["PUT server in"]);
    const token = running();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect([installed("brutus"), installed("plutos")]).toEqual([token, token]);
    expect(joins(token)).toBe(200);
    expect(joins(old)).toBe(401);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 600_000);

  test("the server's switch not confirmed after it took the new token: it hands the previous one back, and the next up completes the rotation", async () => {
    const previous = running();
    const asked = requests().length;
    const brutus = lab.nodeHost("brutus")!;
    lab.useFleet(cluster(2));
    await upNotConfirmed(lab, "brutus");
    await until(
      "brutus rolled back",
      () => brutus.try("test", ["-d", "/var/lib/clawd-mesh/pending"]).status !== 0,
      LAB_WINDOW + 60,
    );
    // The rollback restored the previous token file and gave k3s that token back; every step
    // of it succeeded. The agent's push waited for the server's, and never ran.
    const record = brutus.run("sh", [
      "-c",
      "cat $(ls -t /var/lib/clawd-mesh/rolled-back/* | head -n 1)",
    ]);
    expect(record).toMatch(/^failed=$/m);
    expect([running(), installed("brutus"), installed("plutos")]).toEqual([
      previous,
      previous,
      previous,
    ]);
    expect(joins(previous)).toBe(200);
    // Handed over by the push, then back by the rollback.
    expect(requests().slice(asked)).toEqual(["PUT server in", "PUT server in"]);
    const { run } = await change(
      lab,
      "rotate the k3s join token after a rollback",
      cluster(2),
      NODES,
    );
    expect(pushes(run)).toEqual(["brutus", "plutos"]);
    const token = running();
    expect(token).not.toBe(previous);
    expect(requests().slice(asked)).toHaveLength(3);
    expect([installed("brutus"), installed("plutos")]).toEqual([token, token]);
    expect(joins(token)).toBe(200);
  }, 900_000);
});
