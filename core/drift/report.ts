// The drift report an operator reads, the exit status scripts read, and the commands that push
// exactly the drifted nodes again.
import type { NodeDrift } from "./compare";

/** Exit statuses of `npm run drift`: distinct, so a script can tell "drifted" from "unknown". */
export const DRIFT_EXIT = { clean: 0, drifted: 1, usage: 2, unreachable: 3 } as const;

export function driftExitCode(results: readonly NodeDrift[]): number {
  if (results.some((r) => r.kind === "unreachable")) return DRIFT_EXIT.unreachable;
  if (results.some((r) => r.kind === "drifted")) return DRIFT_EXIT.drifted;
  return DRIFT_EXIT.clean;
}

/**
 * A node's push resource. Its parents' types are part of it (the Fleet, then the MeshNode; the
 * stack's own type is left out, as Pulumi does), so it moves only if those names do.
 */
export function pushUrn(stack: string, project: string, node: string): string {
  return `urn:pulumi:${stack}::${project}::clawd-mesh:mesh:Fleet$clawd-mesh:mesh:MeshNode$command:local:Command::${node}-push`;
}

/** How the operator runs `up` with replacements: `pulumi up`, or the lab's. */
export type UpCommand = (replace: readonly string[]) => string;

export const pulumiUp =
  (stack: string): UpCommand =>
  (urns) =>
    `pulumi up --stack ${stack} ${urns.map((u) => `--replace '${u}'`).join(" ")}`;

export function renderDriftReport(
  mesh: string,
  results: readonly NodeDrift[],
  urnOf: (node: string) => string,
  upCommand: UpCommand,
): string {
  const drifted = results.filter((r) => r.kind === "drifted");
  const unreachable = results.filter((r) => r.kind === "unreachable");
  const lines = [
    `drift ${mesh}: ${results.length} node(s) checked, ${drifted.length} drifted, ${unreachable.length} unreachable`,
  ];
  for (const r of results) {
    if (r.kind === "clean") {
      lines.push(`${r.node}: as rendered`);
    } else if (r.kind === "unreachable") {
      lines.push(`${r.node}: NOT CHECKED: ${r.reason}`);
    } else {
      lines.push(`${r.node}: DRIFTED`);
      for (const f of r.findings) {
        lines.push(`  ${f.what}:`, ...f.detail.map((d) => `    ${d}`));
      }
    }
  }
  if (drifted.length > 0) {
    lines.push(
      "",
      "Pushing a node again changes nothing Pulumi sees (its triggers are the bundle, the secrets and",
      "the machine), so replace the drifted nodes' pushes, and only theirs:",
      `  ${upCommand(drifted.map((r) => urnOf(r.node)))}`,
    );
  }
  if (unreachable.length > 0) {
    lines.push(
      "",
      `Not checked: ${unreachable.map((r) => r.node).join(", ")}. Drift there is unknown; reach them over their management path and run this again.`,
    );
  }
  return `${lines.join("\n")}\n`;
}
