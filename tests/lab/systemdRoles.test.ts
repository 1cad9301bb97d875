// The vault's units on hosts that boot systemd (four of seed 001's nodes): the service runs
// under its sandboxing, `systemd-analyze security` rates each unit the push installs, and the
// integrity timer is scheduled as rendered.
import type { Lab } from "../../lab/lab";
import { loadStackFleet } from "../../core/fleet/load";
import { PROJECT_DIR } from "../helpers/stacks";
import { startLab, stopLab } from "../helpers/lab";

const NODES = ["amsterdam", "dallas", "dubai", "zurich"];
let lab: Lab;
let seconds = 0;
beforeAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const clavitor = loadStackFleet(PROJECT_DIR, "clavitor") as any;
  const four = {
    ...clavitor,
    nodes: clavitor.nodes.filter((n: { name: string }) => NODES.includes(n.name)),
  };
  const started = Date.now();
  lab = await startLab("clavitor", { fleet: four, hosts: "systemd" });
  seconds = (Date.now() - started) / 1000;
}, 600_000);
afterAll(() => stopLab());

/** systemd-analyze's ratings, worst to best. */
const RATINGS = ["UNSAFE", "EXPOSED", "MEDIUM", "OK", "SAFE"];

test("the vault runs as a unit on every node, and nothing failed", () => {
  console.log(`clavitor (4 nodes) on systemd hosts: converged in ${seconds.toFixed(1)} s`);
  for (const node of NODES) {
    const host = lab.nodeHost(node)!;
    expect([node, host.init]).toEqual([node, "systemd"]);
    expect([node, host.try("systemctl", ["is-active", "clavitor"]).stdout.trim()]).toEqual([
      node,
      "active",
    ]);
    const failed = host.run("systemctl", ["--failed", "--no-legend", "--plain"]);
    expect([node, failed]).toEqual([node, ""]);
  }
});

test("systemd-analyze security: the vault's unit rates OK or better", () => {
  const host = lab.nodeHost("amsterdam")!;
  const units = host
    .run("sh", ["-c", "cd /etc/systemd/system && ls *.service"])
    .split("\n")
    .filter((u) => u.startsWith("clavitor") || u.startsWith("clawd-mesh"));
  expect(units).toContain("clavitor.service");
  const figures: Record<string, string> = {};
  for (const unit of units) {
    const out = host.run("systemd-analyze", ["security", "--no-pager", unit]);
    const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(out);
    expect([unit, m?.[2]]).toEqual([unit, expect.stringMatching(/^[A-Z]+$/)]);
    figures[unit] = `${m?.[1]} ${m?.[2]}`;
  }
  console.log(
    `systemd-analyze security: ${Object.entries(figures)
      .map(([u, f]) => `${u} ${f}`)
      .join(", ")}`,
  );
  const vault = figures["clavitor.service"]?.split(" ")[1] ?? "";
  expect(RATINGS.indexOf(vault)).toBeGreaterThanOrEqual(RATINGS.indexOf("OK"));
});

test("the integrity timer is scheduled as rendered", () => {
  const host = lab.nodeHost("amsterdam")!;
  const rendered = host.run("cat", ["/etc/systemd/system/clavitor-integrity.timer"]);
  const calendar = /^OnCalendar=(.+)$/m.exec(rendered)?.[1];
  expect(calendar).toBeDefined();
  expect(host.run("systemctl", ["is-enabled", "clavitor-integrity.timer"]).trim()).toBe("enabled");
  const listed = host.run("systemctl", ["list-timers", "--all", "--no-legend", "--plain"]);
  expect(listed).toMatch(/clavitor-integrity\.timer\s+clavitor-integrity\.service/);
  // The next elapse systemd computed is the calendar's next one, as systemd-analyze reads it.
  const next = host.run("systemd-analyze", ["calendar", calendar!]);
  const expected = /Next elapse: (.+)/.exec(next)?.[1]?.trim();
  const shown = host.run("systemctl", [
    "show",
    "clavitor-integrity.timer",
    "-p",
    "NextElapseUSecRealtime",
    "--value",
  ]);
  expect(shown.trim()).toBe(expected);
});
