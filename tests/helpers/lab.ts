// Bringing a stack's lab up for a test, and always down again.
import { Lab } from "../../lab/lab";
import { labDown } from "../../lab/down";
import { readState } from "../../lab/state";
import { probeMatrix, type Matrix } from "../../lab/probe";
import { loadStackFleet } from "../../core/fleet/load";
import { validateFleet } from "../../core/fleet/validate";
import type { Fleet } from "../../core/fleet/fleet";
import { PROJECT_DIR } from "./stacks";
import { requireTools } from "./run";

export const LAB_WINDOW = 30;

export async function startLab(stack: string, fleet?: Fleet): Promise<Lab> {
  requireTools("sshd", "ssh", "wg", "wg-quick", "wireguard-go", "nft", "ip", "sudo", "ping");
  if (readState()) labDown(() => undefined); // a lab left by an interrupted run
  const lab = new Lab(fleet ?? validateFleet(loadStackFleet(PROJECT_DIR, stack)), {
    stack,
    windowSeconds: LAB_WINDOW,
    log: () => undefined,
  });
  const steps = await lab.converge();
  const failed = steps.filter((s) => !s.ok);
  if (failed.length > 0) {
    throw new Error(
      `lab ${stack} did not converge: ${failed.map((f) => `${f.node} ${f.step}: ${f.message}`).join("; ")}`,
    );
  }
  return lab;
}

export function stopLab(): void {
  labDown(() => undefined);
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
