// What the day-two lab tests share: one change as an operator makes it (an up, watched from
// the operator's side, then the reachability matrix), the nodes' WireGuard keys as their hosts
// run them, and an up whose confirmation is blocked.
import type { EngineRun, Lab } from "../../lab/lab";
import { startOllama } from "../../lab/standins";
import type { RawFleet } from "../../lab/twin";
import { changed, mismatches, probeMatrix, tail, up } from "./lab";

/** The nodes an up pushed, in the order their pushes ran. */
export const pushes = (run: EngineRun): string[] =>
  changed(run)
    .filter((s) => (s.op === "+-" || s.op === "+") && s.name.endsWith("-push"))
    .map((s) => s.name.replace(/-push$/, ""));

/** One line per change, printed after the tests. */
export const report: string[] = [];

/**
 * Logs in to each node in turn over its management path until stopped; the longest gap
 * between two answers of a node is how long the operator could not reach it (to within one
 * round of logins).
 */
export function watch(
  lab: Lab,
  nodes: readonly string[],
): { stop: () => Promise<Record<string, number>> } {
  const last = new Map(nodes.map((n) => [n, Date.now()]));
  const gap = new Map(nodes.map((n) => [n, 0]));
  let running = true;
  const loop = (async () => {
    const deadline = Date.now() + 300_000;
    while (running && Date.now() < deadline) {
      for (const node of nodes) {
        const r = await lab.ssh(node, "true", "", 10_000);
        if (r.status === 0) {
          const now = Date.now();
          gap.set(node, Math.max(gap.get(node) ?? 0, now - (last.get(node) ?? now)));
          last.set(node, now);
        }
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return Object.fromEntries([...gap].map(([n, ms]) => [n, ms / 1000]));
    },
  };
}

/** One change: an up, timed, watched from the operator's side; the matrix after it. */
export async function change(lab: Lab, what: string, fleet: RawFleet, watched: readonly string[]) {
  lab.useFleet(fleet);
  const watcher = watch(lab, watched);
  const started = Date.now();
  const run = await up(lab);
  const seconds = (Date.now() - started) / 1000;
  const gaps = await watcher.stop();
  startOllama(lab);
  const matrix = await probeMatrix(lab);
  expect(mismatches(matrix)).toEqual([]);
  const pushed = pushes(run);
  const longest = Object.entries(gaps).sort((a, b) => b[1] - a[1])[0];
  report.push(
    `  ${what}: ${seconds.toFixed(1)} s, pushed ${pushed.join(", ") || "none"}; longest a node did not answer: ${longest?.[0]} ${longest?.[1].toFixed(1)} s; ${matrix.settled} probe(s) agreed only when tried again`,
  );
  return { run, gaps };
}

/** Each node's WireGuard key as its host runs it, and the keys its peers hold. */
export function keys(
  lab: Lab,
  nodes: readonly string[],
): { own: Record<string, string>; held: string } {
  const own = Object.fromEntries(
    nodes.map((n) => [n, lab.nodeHost(n)!.run("wg", ["show", "wg0", "public-key"]).trim()]),
  );
  const held = nodes.map((n) => lab.nodeHost(n)!.run("wg", ["show", "wg0", "peers"])).join("\n");
  return { own, held };
}

/** Polls until ok, every 0.5 s, for at most `seconds`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * An up in which `node`'s push switches but is never confirmed: once it has switched, the entry
 * node drops every new SSH connection to it, so it goes back when its window closes. The up
 * fails naming it.
 */
export async function upNotConfirmed(lab: Lab, node: string) {
  const host = lab.nodeHost(node)!;
  const clawd = lab.nodeHost("clawd")!;
  const ip = lab.fleet().nodes.find((n) => n.name === node)!.meshIp;
  let blocked = false;
  const blocker = setInterval(() => {
    if (blocked) return;
    if (host.try("test", ["-f", "/var/lib/clawd-mesh/pending/activated"]).status !== 0) return;
    clawd.run("nft", ["-f", "-"], {
      input: `table inet block_confirm { chain out { type filter hook output priority 0; ip daddr ${ip} tcp dport 22 tcp flags syn drop; }; }\n`,
    });
    blocked = true;
  }, 200);
  const failed = await lab.engine("up");
  clearInterval(blocker);
  expect(blocked).toBe(true);
  expect(failed.ok).toBe(false);
  expect(tail(failed, 80)).toContain(`${node}: the switch was not confirmed`);
  clawd.run("nft", ["delete", "table", "inet", "block_confirm"]);
}
