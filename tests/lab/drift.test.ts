// Drift on seed 000's four hosts (brutus is reached through clawd by ProxyJump): after a
// converge nothing drifted; a hand edit of brutus' sshd_config and a rule added to its nft
// table are reported with a diff, brutus alone, and a plain `up` runs nothing (its triggers did
// not change); `up --replace` of brutus' push, as the report prints it, pushes brutus and only
// brutus, after which nothing drifted and the next `up` runs nothing. A node that cannot be
// reached is named, with exit status 3.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Lab } from "../../lab/lab";
import { labDrift } from "../../lab/drift";
import { DRIFT_EXIT } from "../../core/drift/report";
import { changed, counts, startLab, stopLab, up } from "../helpers/lab";

const PROJECT_DIR = join(__dirname, "..", "..");
const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");

let lab: Lab;
const timings: Record<string, number> = {};
beforeAll(async () => {
  const started = Date.now();
  lab = await startLab("clawd");
  timings.converge = (Date.now() - started) / 1000;
}, 300_000);
afterAll(() => {
  stopLab();
  console.log(`drift lab timings (s): ${JSON.stringify(timings)}`);
});

const brutus = () => lab.nodeHost("brutus")!;

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await f();
  } finally {
    timings[label] = (Date.now() - started) / 1000;
  }
}

test("after a converge no node drifted", async () => {
  const drift = await timed("drift clean", () => labDrift(lab));
  expect(drift.report).toMatch(/^drift clawd: 4 node\(s\) checked, 0 drifted, 0 unreachable$/m);
  expect(drift.results.map((r) => `${r.node} ${r.kind}`).sort()).toEqual([
    "brutus clean",
    "clawd clean",
    "nexus clean",
    "plutos clean",
  ]);
  expect(drift.exitCode).toBe(DRIFT_EXIT.clean);
}, 120_000);

test("a hand edit of sshd_config and an extra nft rule are reported on that node only, with a diff", async () => {
  brutus().run("sh", [
    "-c",
    "sed -i '1i MaxSessions 3' /etc/ssh/sshd_config && kill -HUP \"$(cat /run/sshd.pid)\"",
  ]);
  brutus().run("nft", [
    "add",
    "rule",
    "inet",
    "clawd_mesh",
    "input",
    "tcp",
    "dport",
    "9999",
    "accept",
  ]);
  const drift = await timed("drift drifted", () => labDrift(lab));
  console.log(drift.report);
  expect(drift.exitCode).toBe(DRIFT_EXIT.drifted);
  expect(drift.results.filter((r) => r.kind !== "clean").map((r) => r.node)).toEqual(["brutus"]);
  const r = drift.results.find((x) => x.node === "brutus");
  if (r?.kind !== "drifted") throw new Error(drift.report);
  const finding = (what: string) => r.findings.find((f) => f.what === what)?.detail ?? [];
  expect(r.findings.map((f) => f.what).sort()).toEqual([
    "files",
    "nft list table inet clawd_mesh",
    "sshd -T",
  ]);
  expect(finding("sshd -T")).toEqual(
    expect.arrayContaining(["- maxsessions 10", "+ maxsessions 3"]),
  );
  expect(finding("nft list table inet clawd_mesh")).toEqual(
    expect.arrayContaining([expect.stringMatching(/^\+ \s*tcp dport 9999 accept$/)]),
  );
  expect(finding("files")).toEqual(["changed: /etc/ssh/sshd_config"]);
  expect(drift.report).toContain("brutus: DRIFTED");
  expect(drift.report).toContain(`npm run lab -- up --stack clawd --replace '${drift.replace[0]}'`);
  expect(drift.replace).toEqual([
    "urn:pulumi:clawd::clawd-mesh::clawd-mesh:mesh:Fleet$clawd-mesh:mesh:MeshNode$command:local:Command::brutus-push",
  ]);

  // The operator's command on the kept lab says the same, with exit status 1.
  const cli = spawnSync(TSX, [join(PROJECT_DIR, "cli", "lab.ts"), "drift", "--stack", "clawd"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect([cli.status, cli.stdout]).toEqual([DRIFT_EXIT.drifted, drift.report]);

  // Pulumi alone sees nothing: the push's triggers (bundle, secrets, machine) did not change.
  const plain = await timed("up plain", () => up(lab));
  expect(counts(plain).commands).toBe(0);
}, 240_000);

test("up --replace of the drifted node's push pushes it alone; then nothing drifted and the next up runs nothing", async () => {
  const { replace } = await labDrift(lab);
  const repush = await timed("up --replace", () => up(lab, { replace }));
  expect(changed(repush).filter((c) => c.op === "+-")).toEqual([
    { op: "+-", type: "command:local:Command", name: "brutus-push" },
  ]);
  // One command run: brutus' push (apply and confirm are one local command).
  expect(counts(repush)).toMatchObject({
    created: 0,
    updated: 0,
    replaced: 1,
    deleted: 0,
    commands: 1,
  });
  expect(brutus().run("cat", ["/etc/ssh/sshd_config"])).not.toMatch(/^MaxSessions 3$/m);
  expect(brutus().run("nft", ["list", "table", "inet", "clawd_mesh"])).not.toContain("9999");

  const after = await timed("drift after", () => labDrift(lab));
  expect(after.exitCode).toBe(DRIFT_EXIT.clean);
  const next = await timed("up next", () => up(lab));
  expect(counts(next).commands).toBe(0);
}, 300_000);

test("a node that cannot be reached is named, and the exit status says drift is unknown", async () => {
  const nexus = lab.nodeHost("nexus")!;
  nexus.run("ip", ["link", "set", "wg0", "down"]);
  try {
    const drift = await timed("drift unreachable", () => labDrift(lab));
    expect(drift.exitCode).toBe(DRIFT_EXIT.unreachable);
    expect(drift.report).toMatch(/^nexus: NOT CHECKED: /m);
    expect(drift.report).toContain("Not checked: nexus.");
  } finally {
    nexus.run("ip", ["link", "set", "wg0", "up"]);
  }
}, 180_000);
