// Pushes through the program's own resources (stack ollama-home: the operator reaches the AI
// host as a mesh peer): an up with nothing changed runs nothing, and four faults each end with
// the node back on its previous configuration by itself, the run failing with a clear message
// naming the node, and the next up — once the cause is gone — converging with no manual step.
import { randomBytes } from "node:crypto";
import { cpSync } from "node:fs";
import { wireguardPublicKey } from "../../core/crypto/keys";
import type { Lab } from "../../lab/lab";
import { startOllama } from "../../lab/standins";
import { MANIFEST_FILE } from "../../core/plan/files";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { run } from "../helpers/run";
import {
  counts,
  LAB_WINDOW,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  tail,
  up,
  NOTHING_CHANGED,
} from "../helpers/lab";
import {
  digests as digestsOf,
  installed as installedOn,
  manifestRows as manifestRowsOf,
  rolledBack as backOn,
  sshdRefusesNewConfig,
  sshFromClientsOnly,
  withRule as ruleFor,
} from "../helpers/labPush";

let lab: Lab;
beforeAll(async () => {
  // A node that does not answer should fail the push in seconds, not the default ten minutes.
  lab = await startLab("ollama-home", { connectAttempts: 6 });
}, 300_000);
afterAll(() => stopLab());

const ai = () => lab.nodeHost("ai")!;

const manifestRows = () => manifestRowsOf(ai());
const digests = (files: readonly string[]) => digestsOf(ai(), files);
const installed = (extra: readonly string[] = []) => installedOn(ai(), extra);
const rolledBack = (since: number) => backOn(lab, "ai", since);
const withRule = (tcp: number) => ruleFor(lab, "ai", tcp);

const recovery: Record<string, number> = {};

/** The node runs what it ran before, and the stack as it was holds on the wire again. */
async function expectBackAsBefore(before: ReturnType<typeof installed>): Promise<void> {
  expect(installed()).toEqual(before);
  lab.useFleet(undefined);
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
}

describe("nothing changed", () => {
  test("a second up runs no command, and a preview shows no change", async () => {
    const again = await up(lab);
    expect(counts(again)).toMatchObject(NOTHING_CHANGED);
    const preview = await lab.engine("preview");
    expect(preview.ok).toBe(true);
    expect(counts(preview)).toMatchObject({ created: 0, updated: 0, replaced: 0, deleted: 0 });
  }, 120_000);
});

describe("faults, each recovering by itself", () => {
  afterAll(() => {
    console.log(
      `recovery times (rollback window ${LAB_WINDOW} s): ${Object.entries(recovery)
        .map(([fault, s]) => `${fault} ${s.toFixed(1)} s`)
        .join(", ")}`,
    );
  });
  afterEach(() => lab.useFleet(undefined));

  test("the operator's peer key mistyped in the stack: the switch loses the operator", async () => {
    const before = installed();
    const twin = lab.twin();
    const wrong = wireguardPublicKey(randomBytes(32).toString("base64"));
    lab.useTwin({
      ...twin,
      peers: twin.peers.map((p: { name: string }) =>
        p.name === "admin" ? { ...p, publicKey: wrong } : p,
      ),
    });
    const started = Date.now();
    const run = await lab.engine("up");
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(
      /ai-push: (create|update|replace) failed: .*ai: the switch was not confirmed/s,
    );
    recovery["wrong peer key"] = await rolledBack(started);
    await expectBackAsBefore(before);
    // The failed push left no record: with the right key again, nothing is left to do.
    lab.useFleet(undefined);
    expect(counts(await up(lab))).toMatchObject({ replaced: 0, created: 0, commands: 0 });
  }, 300_000);

  test("SSH allowed only from the clients: the new firewall drops the management path", async () => {
    const before = installed();
    const raw = lab.raw();
    // The host's owner gave the admin account sudo again since the last push: the push takes
    // that away, and the rollback gives it back as it was.
    const grant = `${raw.ssh.adminUser} ALL=(ALL) NOPASSWD:ALL\n`;
    ai().run("sh", [
      "-c",
      `printf '%s' '${grant}' >/etc/sudoers.d/owner && chmod 440 /etc/sudoers.d/owner`,
    ]);
    try {
      lab.useFleet(sshFromClientsOnly(lab));
      const started = Date.now();
      const run = await lab.engine("up");
      expect(run.ok).toBe(false);
      expect(tail(run)).toMatch(
        /ai-push: (create|update|replace) failed:.*ai: the switch was not confirmed: no connection over admin@10\.10\.10\.1:22 within 30 s of the switch/s,
      );
      recovery["firewall drops the management path"] = await rolledBack(started);
      await expectBackAsBefore(before);
      expect(ai().run("cat", ["/etc/sudoers.d/owner"])).toBe(grant);
      expect(ai().run("sudo", ["-l", "-U", raw.ssh.adminUser])).toMatch(/NOPASSWD: ALL/);
    } finally {
      ai().run("rm", ["-f", "/etc/sudoers.d/owner"]);
    }
  }, 300_000);

  test("a node whose sshd refuses the new configuration: nothing changes", async () => {
    const before = installed();
    const undo = sshdRefusesNewConfig(ai());
    lab.useFleet(withRule(8080));
    const started = Date.now();
    try {
      const run = await lab.engine("up");
      expect(run.ok).toBe(false);
      expect(tail(run)).toContain(
        "sshd -t rejected the new /etc/ssh/sshd_config; nothing was changed",
      );
      // Refused before anything changed: nothing to roll back.
      expect(ai().try("test", ["-e", "/var/lib/clawd-mesh/pending"]).status).not.toBe(0);
      recovery["sshd refuses the configuration"] = (Date.now() - started) / 1000;
      expect(installed()).toEqual(before);
    } finally {
      undo();
    }
    // Once the node's sshd accepts it, the same change lands by a plain up.
    const run = await up(lab);
    expect(counts(run)).toMatchObject({ replaced: 1, commands: 1 });
    expect(installed()).not.toEqual(before);
  }, 300_000);

  test("a node that does not answer: the push fails, and the next up lands it", async () => {
    lab.useFleet(withRule(8081));
    ai().run("ip", ["link", "set", "eth0", "down"]);
    const started = Date.now();
    let run;
    try {
      run = await lab.engine("up");
    } finally {
      ai().run("ip", ["link", "set", "eth0", "up"]);
    }
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(
      /ai-push: (create|update|replace) failed:.*ai: the push failed: after \d+ failed attempts/s,
    );
    recovery["node does not answer"] = (Date.now() - started) / 1000;
    // Back on the network: the same up, with no --replace and nothing done by hand, lands it.
    const again = await up(lab);
    expect(counts(again)).toMatchObject({ replaced: 1, commands: 1 });
    expect(ai().run("cat", ["/etc/nftables.conf"])).toContain("8081");
    expect(mismatches(await probeMatrix(lab))).toEqual([]);
  }, 300_000);

  test("a push left pending when the operator's side died and the node lost its timer: the next up rolls it back first, then lands", async () => {
    // A push cut short while it armed leaves only pending.new: the next apply drops it.
    ai().run("sh", ["-c", "mkdir -p /var/lib/clawd-mesh/pending.new/previous"]);
    lab.useFleet(withRule(8082));
    const pending = () =>
      ai().try("test", ["-f", "/var/lib/clawd-mesh/pending/token"]).status === 0;
    const running = lab.engine("up");
    const deadline = Date.now() + 60_000;
    while (!pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(pending()).toBe(true);
    // The operator's machine goes away mid-push, and the node reboots: no confirmation comes,
    // and the rollback timer is gone.
    run("pkill", ["-f", "tsx cli/push.ts"]);
    const token = ai().run("cat", ["/var/lib/clawd-mesh/pending/token"]).trim();
    ai().run("sh", ["-c", 'kill "$(cat /var/lib/clawd-mesh/pending/sleeper)"']);
    expect((await running).ok).toBe(false);
    const past = Number(ai().run("cat", ["/var/lib/clawd-mesh/pending/deadline"])) + 6;
    while (Date.now() / 1000 < past) await new Promise((r) => setTimeout(r, 500));
    expect(pending()).toBe(true); // nothing on the node resolved it
    const started = Date.now();
    const again = await up(lab);
    recovery["pending push with its timer lost"] = (Date.now() - started) / 1000;
    expect(counts(again)).toMatchObject({ replaced: 1, commands: 1 });
    expect(ai().run("cat", [`/var/lib/clawd-mesh/rolled-back/${token}`])).toContain("failed=\n");
    expect(ai().try("test", ["-e", "/var/lib/clawd-mesh/pending.new"]).status).not.toBe(0);
    expect(ai().run("cat", ["/etc/nftables.conf"])).toContain("8082");
    expect(mismatches(await probeMatrix(lab))).toEqual([]);
  }, 300_000);

  test("a role that answered before the switch and is silent after it: the push is rolled back", async () => {
    const before = installed();
    lab.useFleet(withRule(8083));
    const pending = () =>
      ai().try("test", ["-f", "/var/lib/clawd-mesh/pending/token"]).status === 0;
    const running = lab.engine("up");
    const deadline = Date.now() + 60_000;
    while (!pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Ollama stops answering once the switch is made (the stand-in for a push that broke it).
    ai().run("sh", ["-c", "pkill -f '[s]erver.js 10.10.10.1 11434 ollama' || true"]);
    const started = Date.now();
    const run = await running;
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(
      /ai: the switch was not confirmed: .*check failed: http:\/\/10\.10\.10\.1:11434\/api\/tags answered before the switch and does not now/s,
    );
    recovery["a role silent after the switch"] = await rolledBack(started);
    startOllama(lab);
    await expectBackAsBefore(before);
    // With Ollama answering, the same change lands by a plain up.
    lab.useFleet(withRule(8083));
    expect(counts(await up(lab))).toMatchObject({ replaced: 1, commands: 1 });
  }, 300_000);
});

/**
 * A push made on the node from what it runs (the lab's own apply.sh run by hand, not through
 * the engine): every file one `mark` line longer, a fresh WireGuard key, the scripts as this
 * checkout has them; `manifest`, a shell command, may rewrite the manifest. Returns its
 * directory.
 */
function pushOnNode(mark: string, manifest = "cat"): string {
  // The checkout may live where the host has a folder of its own (/tmp): hand it the scripts.
  const scripts = "/tmp/clawd-mesh-scripts";
  cpSync(PUSH_DIR, ai().path(scripts), { recursive: true });
  return ai()
    .run("sh", [
      "-c",
      `set -eu
umask 077
d=$(mktemp -d /tmp/push.XXXXXX)
mkdir -p "$d/scripts"
for f in "$1"/*.sh; do { cat "$f"; echo "# $3"; } >"$d/scripts/$(basename "$f")"; done
chmod 755 "$d"/scripts/*.sh
grep -v '^#' "$2" | while read -r phase kind source destination _; do
  case $kind/$phase/$source in
    dir/* | */first/* | */scripts/*) continue ;;
  esac
  mkdir -p "$(dirname "$d/$source")"
  case $source in
    secrets/wg0.key) wg genkey >"$d/$source" ;;
    *) { cat "$destination"; echo "# $3"; } >"$d/$source" ;;
  esac
done
sh -c "$4" <"$2" >"$d/bundle/manifest"
echo "# $3" >>"$d/bundle/manifest"
echo "$d"`,
      "sh",
      scripts,
      MANIFEST_FILE,
      mark,
      manifest,
    ])
    .trim();
}

const apply = (dir: string, window = 8) =>
  ai().runAsync("sh", [`${dir}/scripts/apply.sh`, dir, "--window", String(window)]);
const ARMED = /^clawd-mesh: armed (\S+) (\d+)$/m;

describe("the manifest", () => {
  const added = "/etc/clawd-mesh/added-by-a-test";
  // The stack as it is, deployed: the faults before may have left a change of theirs on ai.
  beforeAll(async () => {
    await up(lab);
  }, 120_000);

  test("a push that changes every file it places, adds one and retires one, unconfirmed, puts every file back byte for byte", async () => {
    const retired = manifestRows().find(([, , source]) => source === "bundle/sysctl.conf");
    expect(retired).toBeDefined();
    const before = installed([added]);
    expect(before[added]).toBe("absent");
    // The push, made on the node from what it runs: every file one comment line longer (a
    // fresh WireGuard key), the scripts as this checkout has them, one row more, one less.
    const dir = pushOnNode(
      "changed by a test",
      `grep -v " bundle/sysctl.conf "; echo "any file bundle/added ${added} 600 - -"`,
    );
    ai().run("sh", ["-c", `echo added >${dir}/bundle/added`]);
    const armed = (await apply(dir)).stdout;
    expect(armed).toMatch(ARMED);
    // Switched: every file differs, the new one is there and the retired one gone.
    const switched = digests(Object.keys(before));
    for (const [file, digest] of Object.entries(before)) {
      expect([file, switched[file]]).not.toEqual([file, digest]);
    }
    expect(switched[retired?.[3] as string]).toBe("absent");
    // Nobody confirms: the window closes and the node puts back what it ran.
    await rolledBack(Date.now());
    expect(digests(Object.keys(before))).toEqual(before);
    expect(installed([added])).toEqual(before);
    ai().run("rm", ["-rf", dir]);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
    expect(mismatches(await probeMatrix(lab))).toEqual([]);
  }, 180_000);

  test("two applies at once: one arms, the other is refused, and the rollback puts back what ran before both", async () => {
    const before = installed();
    const [a, b] = [pushOnNode("push a"), pushOnNode("push b")];
    const results = await Promise.all([apply(a), apply(b)]);
    const armed = results.filter((r) => ARMED.test(r.stdout));
    const refused = results.filter((r) => r.status !== 0);
    expect([armed.length, refused.length]).toEqual([1, 1]);
    expect(refused[0]?.stderr).toMatch(
      /is still waiting for confirmation; it is kept or rolled back by \d+, try again after/,
    );
    await rolledBack(Date.now());
    expect(installed()).toEqual(before);
    ai().run("rm", ["-rf", a, b]);
  }, 120_000);

  test("a disk that fills while the current files are saved: nothing changes, and the next apply arms", async () => {
    const before = installed();
    const state = "/var/lib/clawd-mesh";
    const dir = pushOnNode("disk full");
    // The node's state folder on a filesystem with room for what it holds and little more.
    ai().run("sh", [
      "-c",
      `set -eu; cp -a ${state} /tmp/state.copy; mount -t tmpfs -o size=$(( $(du -sk ${state} | cut -f1) + 16 ))k tmpfs ${state}; cp -a /tmp/state.copy/. ${state}/; rm -rf /tmp/state.copy`,
    ]);
    try {
      const full = await apply(dir);
      expect(full.status).not.toBe(0);
      expect(full.stderr).toMatch(
        /could not save the node's current files .*; nothing was changed/,
      );
      expect(installed()).toEqual(before);
      expect(ai().try("test", ["-e", `${state}/pending`]).status).not.toBe(0);
      // Room again: the half-made pending.new goes, and the push arms (then rolls back).
      ai().run("mount", ["-o", "remount,size=64m", state]);
      expect((await apply(dir)).stdout).toMatch(ARMED);
      expect(ai().try("test", ["-e", `${state}/pending.new`]).status).not.toBe(0);
      await rolledBack(Date.now());
      expect(installed()).toEqual(before);
    } finally {
      ai().run("umount", ["-l", state]);
      ai().run("rm", ["-rf", dir]);
    }
  }, 120_000);

  test("a confirmation that arrives at the deadline's second is refused, and the rollback wins", async () => {
    const before = installed();
    const dir = pushOnNode("late");
    const armed = (await apply(dir, 20)).stdout;
    const token = ARMED.exec(armed)?.[1] as string;
    const deadline = Number(ai().run("cat", ["/var/lib/clawd-mesh/pending/deadline"]));
    while (Date.now() / 1000 < deadline) await new Promise((r) => setTimeout(r, 50));
    const late = await ai().runAsync("sh", [`${dir}/scripts/confirm.sh`, token]);
    expect(late.status).not.toBe(0);
    expect(late.stderr).toMatch(/came too late/);
    await rolledBack(Date.now());
    expect(installed()).toEqual(before);
    expect(ai().run("cat", [`/var/lib/clawd-mesh/rolled-back/${token}`])).toContain("failed=\n");
    ai().run("rm", ["-rf", dir]);
  }, 120_000);
});
