// Bringing a stack's lab up for a test — through the engine, as `npm run lab` does — and always
// down again.
import type { HostInit, LabHost } from "../../lab/host";
import { Lab, type EngineRun } from "../../lab/lab";
import { labDown } from "../../lab/down";
import { readState } from "../../lab/state";
import { probeMatrix, type Matrix } from "../../lab/probe";
import { startK3sApi, startOllama } from "../../lab/standins";
import type { RawFleet } from "../../lab/twin";
import { requireTools } from "./run";

export const LAB_WINDOW = 30;

/** Every line the lab and its engine printed in this test file, for failure messages. */
export const labLog: string[] = [];

export interface StartOptions {
  /** A fleet in place of the stack file's. */
  readonly fleet?: RawFleet;
  /** Fewer dials than the program's ten minutes, where a test expects a host not to answer. */
  readonly connectAttempts?: number;
  /** Converge with the operator's key in an ssh-agent instead of the config. */
  readonly agent?: boolean;
  /** Hosts that boot systemd where the node's OS runs it; init-less ("plain") unless told. */
  readonly hosts?: HostInit;
}

export async function startLab(stack: string, o: StartOptions = {}): Promise<Lab> {
  requireTools("sshd", "ssh", "wg", "wg-quick", "wireguard-go", "nft", "ip", "sudo", "ping");
  if (readState()) labDown(() => undefined); // a lab left by an interrupted run
  const lab = await Lab.create({
    stack,
    windowSeconds: LAB_WINDOW,
    hosts: o.hosts ?? "plain",
    log: (l) => labLog.push(l),
    ...(o.connectAttempts && { connectAttempts: o.connectAttempts }),
    ...(o.fleet && { fleet: o.fleet }),
  });
  const runs = await lab.converge(o.agent ? { agent: true, env: lab.startAgent() } : {});
  const failed = runs.find((r) => !r.ok);
  if (failed) throw new Error(`lab ${stack} did not converge:\n${tail(failed)}`);
  startOllama(lab);
  startK3sApi(lab);
  return lab;
}

/** An `up` that must succeed; its run otherwise explains itself in the error. */
export async function up(lab: Lab, extra?: Parameters<Lab["engine"]>[1]): Promise<EngineRun> {
  const run = await lab.engine("up", extra);
  if (!run.ok) throw new Error(`up failed:\n${tail(run)}`);
  lab.startPeers();
  return run;
}

export function tail(run: EngineRun, lines = 25): string {
  return run.lines.slice(-lines).join("\n");
}

/** An up that found nothing to do: nothing created, changed or deleted, no command run. */
export const NOTHING_CHANGED = { created: 0, updated: 0, replaced: 0, deleted: 0, commands: 0 };

/** The counts of an operation's summary line. */
export function counts(run: EngineRun): Record<string, number> {
  const m =
    /: (\d+) created, (\d+) updated, (\d+) replaced, (\d+) deleted, (\d+) unchanged; (\d+) commands run$/.exec(
      run.summary,
    );
  if (!m) throw new Error(`no summary line in:\n${tail(run)}`);
  const [, created, updated, replaced, deleted, unchanged, commands] = m.map(Number);
  return { created, updated, replaced, deleted, unchanged, commands } as Record<string, number>;
}

/** The steps an operation printed that changed something: op symbol, type and name. */
export function changed(run: EngineRun): { op: string; type: string; name: string }[] {
  return run.lines.flatMap((line) => {
    const m = /^ {2}(\+-|--|\+|~|-) (\S+) (\S+)/.exec(line);
    return m ? [{ op: m[1] as string, type: m[2] as string, name: m[3] as string }] : [];
  });
}

export function stopLab(): void {
  labDown(() => undefined);
}

/**
 * Each node's host kind and, on a systemd host, what its systemd says of itself: "running" once
 * every unit started ("degraded" names a failed one, as when the machine runs out of a limit).
 */
export function systemdStates(lab: Lab): [string, string, string][] {
  return lab.fleet().nodes.map((n) => {
    const host = lab.nodeHost(n.name);
    if (host?.init !== "systemd") return [n.name, host?.init ?? "no host", "-"];
    return [n.name, host.init, host.try("systemctl", ["is-system-running"]).stdout.trim()];
  });
}

export function mismatches(m: Matrix): string[] {
  return m.cells
    .filter((c) => c.actual !== c.expected)
    .map((c) => `${c.from} -> ${c.to} ${c.check}: ${c.actual ? "open" : "closed"}`);
}

export function cell(m: Matrix, from: string, to: string, check: string): boolean | undefined {
  return m.cells.find((c) => c.from === from && c.to === to && c.check === check)?.actual;
}

export { probeMatrix };

/** When, during a replacement, the old machine's WireGuard went, and when the hub first heard the new one. */
export interface Handover {
  /** Milliseconds from the watch's start; undefined when it never happened while watched. */
  readonly oldLeftAt?: number;
  readonly newHeardAt?: number;
  /** Whether the hub heard the node's key from the old machine's address after the new one. */
  readonly heardOldAgain: boolean;
}

/**
 * Watches a node's replacement: the old machine's WireGuard interfaces (gone once it has left
 * the mesh, or once the machine is deleted) and the endpoint the hub holds for the node's key.
 * Every 200 ms, for at most `limitMs`, until stopped.
 */
export function watchHandover(
  old: LabHost,
  hub: LabHost,
  node: { wgPublicKey: string; publicIpv4: string | null },
  limitMs = 600_000,
): { stop(): Promise<Handover> } {
  const started = Date.now();
  let stopped = false;
  let oldLeftAt: number | undefined;
  let newHeardAt: number | undefined;
  let heardOldAgain = false;
  const loop = (async () => {
    while (!stopped && Date.now() - started < limitMs) {
      // A deleted host cannot be entered any more: its interfaces are gone with it. A `wg`
      // that fails or runs out of time says nothing, and is asked again.
      const [oldGone, endpoints] = await Promise.all([
        Promise.resolve()
          .then(() => old.runAsync("wg", ["show", "interfaces"], { timeoutMs: 5000 }))
          .then((r) => (r.status === 0 ? r.stdout.trim() === "" : undefined))
          .catch(() => true),
        hub.runAsync("wg", ["show", "all", "endpoints"], { timeoutMs: 5000 }),
      ]);
      const at = Date.now() - started;
      if (oldLeftAt === undefined && oldGone === true) oldLeftAt = at;
      const line = endpoints.stdout.split("\n").find((l) => l.includes(node.wgPublicKey));
      const from = line?.trim().split(/\s+/).pop()?.replace(/:\d+$/, "");
      if (from && from !== node.publicIpv4 && from !== "(none)") newHeardAt ??= at;
      if (newHeardAt !== undefined && from === node.publicIpv4) heardOldAgain = true;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return {
        ...(oldLeftAt !== undefined && { oldLeftAt }),
        ...(newHeardAt !== undefined && { newHeardAt }),
        heardOldAgain,
      };
    },
  };
}
