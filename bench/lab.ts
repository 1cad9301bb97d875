// The lab on a generated fleet: the program brings it up through the lab's engine, then every
// path is probed against the policy. Root only, and one lab per machine: the caller makes sure
// no other lab is up.
import { generatedFleet } from "./fleet";
import { Lab } from "../lab/lab";
import { labDown } from "../lab/down";
import { probeMatrix } from "../lab/probe";
import { startK3sApi, startOllama } from "../lab/standins";

export interface LabResult {
  readonly converged: boolean;
  readonly convergeSeconds: number;
  readonly probes: number;
  readonly probeSeconds: number;
  readonly mismatches: number;
}

export async function benchLab(size: number): Promise<LabResult> {
  const lines: string[] = [];
  const lab = await Lab.create({ stack: "prod", windowSeconds: 30, log: (l) => lines.push(l) });
  try {
    lab.useFleet(generatedFleet(size));
    const started = Date.now();
    const runs = await lab.converge();
    const convergeSeconds = (Date.now() - started) / 1000;
    const converged = runs.every((r) => r.ok);
    if (!converged) {
      process.stderr.write(`${lines.slice(-20).join("\n")}\n`);
      return { converged, convergeSeconds, probes: 0, probeSeconds: 0, mismatches: -1 };
    }
    startOllama(lab);
    startK3sApi(lab);
    const probing = Date.now();
    const matrix = await probeMatrix(lab);
    return {
      converged,
      convergeSeconds,
      probes: matrix.cells.length,
      probeSeconds: (Date.now() - probing) / 1000,
      mismatches: matrix.cells.filter((c) => c.actual !== c.expected).length,
    };
  } finally {
    lab.useFleet(undefined);
    labDown(() => undefined);
  }
}
