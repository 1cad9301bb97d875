// A reboot inside the rollback window, on a host that boots systemd (stack ollama-home, its
// Debian node): the push's timer goes with the old boot, and the boot rollback puts the last
// confirmed configuration back before nftables.service, wg-quick@wg0 and ssh start. The
// operator reaches the node over the mesh, a late confirmation is refused with the reason, and
// the next up lands the change.
import { PENDING_DIR } from "../../core/plan/files";
import type { Lab } from "../../lab/lab";
import type { SystemdHost } from "../../lab/systemdHost";
import {
  counts,
  LAB_WINDOW,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  tail,
  up,
} from "../helpers/lab";
import { installed, pending, withRule } from "../helpers/labPush";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("ollama-home", { hosts: "systemd", connectAttempts: 6 });
}, 300_000);
afterAll(() => stopLab());

const ai = () => lab.nodeHost("ai") as SystemdHost;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STATE = "/var/lib/clawd-mesh";
const UNIT = "clawd-mesh-boot-rollback.service";

/** Polls `done` every 100 ms for at most `ms`; whether it came true. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await pause(100);
  }
  return true;
}

/** This machine's CLOCK_MONOTONIC in µs: the clock the host's systemd stamps units with. */
const now = () => Number(process.hrtime.bigint() / 1000n);

/** A unit's moment (CLOCK_MONOTONIC, µs) by one of `systemctl show`'s timestamps. */
function monotonic(unit: string, property: string): number {
  return Number(ai().run("systemctl", ["show", "-P", property, unit]).trim());
}

test("a reboot inside the window: the node comes back on its previous configuration, and the next up lands the change", async () => {
  const host = ai();
  const ruleset = () => host.run("nft", ["-s", "list", "table", "inet", "clawd_mesh"]);
  const wgConf = () => host.run("cat", ["/etc/wireguard/wg0.conf"]);
  const before = { files: installed(host), ruleset: ruleset(), wg: wgConf() };
  lab.useFleet(withRule(lab, "ai", 8090));
  const running = lab.engine("up");
  try {
    expect(
      await within(60_000, () => host.try("test", ["-f", `${PENDING_DIR}/token`]).status === 0),
    ).toBe(true);
    const token = host.run("cat", [`${PENDING_DIR}/token`]).trim();
    // The push's lock, taken as soon as apply lets it go: the engine's confirmation waits
    // behind it, so the reboot below comes after the switch and before any confirmation. Held
    // by a unit of the host's own: a process entered from outside (nsenter) was still waited
    // for by systemd-shutdown a minute later.
    const held = `/run/clawd-mesh-test-held-${token}`;
    host.run("systemd-run", [
      "--quiet",
      "--unit=clawd-mesh-test-hold",
      "--property=TimeoutStopSec=2",
      "flock",
      `${STATE}/lock`,
      "sh",
      "-c",
      `: >${held}; exec sleep 120`,
    ]);
    expect(await within(60_000, () => host.try("test", ["-e", held]).status === 0)).toBe(true);
    // Switched, not confirmed: the new rule is live and the push still waits.
    expect(ruleset()).toContain("8090");
    expect(pending(host)).toBe(true);
    const deadline = Number(host.run("cat", [`${PENDING_DIR}/deadline`]));
    const left = deadline - Date.now() / 1000;
    const rebooting = now();
    const rebooted = host.reboot();
    const run = await running;
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(/ai: the switch was not confirmed/);

    // Rolled back at boot, before the units that read the files started.
    expect(pending(host)).toBe(false);
    const record = host.run("cat", [`${STATE}/rolled-back/${token}`]);
    expect(record).toMatch(/^by=boot$/m);
    expect(record).toMatch(/^failed=$/m);
    const finished = monotonic(UNIT, "ExecMainExitTimestampMonotonic");
    expect(finished).toBeGreaterThan(0);
    for (const unit of ["nftables.service", "wg-quick@wg0.service", "ssh.service"]) {
      expect([unit, monotonic(unit, "ExecMainStartTimestampMonotonic") > finished]).toEqual([
        unit,
        true,
      ]);
    }
    expect(host.try("systemctl", ["is-system-running"]).stdout.trim()).toBe("running");
    expect({ files: installed(host), ruleset: ruleset(), wg: wgConf() }).toEqual(before);

    // The operator in over the mesh; the confirmation that comes now is refused, and says why.
    const reached = Date.now();
    let answered = false;
    while (!answered && Date.now() - reached < 60_000) {
      answered = (await lab.ssh("ai", "true", "", 3_000)).status === 0;
      if (!answered) await pause(500);
    }
    expect(answered).toBe(true);
    const late = await lab.ssh("ai", `sudo -n /usr/local/sbin/clawd-mesh-receive confirm ${token}`);
    expect(late.status).not.toBe(0);
    expect(late.stderr).toContain(
      `push ${token} was rolled back when the node restarted before it was confirmed; run up again`,
    );
    console.log(
      `reboot inside the window (${LAB_WINDOW} s, ${left.toFixed(1)} s of it left at the reboot): ` +
        `the previous configuration back ${((finished - rebooting) / 1e6).toFixed(2)} s after ` +
        `systemctl reboot, systemd's targets ${rebooted.toFixed(1)} s after it, the operator ` +
        `in over the mesh ${((Date.now() - reached) / 1000).toFixed(1)} s after that`,
    );

    // Nothing by hand: the next up pushes the change again, and this time it is kept.
    const again = await up(lab);
    expect(counts(again)).toMatchObject({ commands: 1 });
    expect(ruleset()).toContain("8090");
    expect(pending(host)).toBe(false);
  } finally {
    lab.useFleet(undefined);
  }
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
}, 300_000);
