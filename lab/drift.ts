// `npm run lab -- drift`: the drift check of `npm run drift`, on the kept lab. The nodes are read
// over the operator's ssh_config the program rendered (Lab.ssh), and the deployed facts come
// from the engine's checkpoint instead of `pulumi stack output`.
import { resolve } from "node:path";
import type { NodeDrift } from "../core/drift/compare";
import { driftExitCode, pushUrn, renderDriftReport, type UpCommand } from "../core/drift/report";
import { projectName } from "../core/fleet/load";
import { STATE_COMMAND } from "../core/delivery/command";
import { checkDrift } from "../operator/drift";
import type { Lab } from "./lab";

const PROJECT_DIR = resolve(__dirname, "..");

export interface LabDrift {
  readonly results: readonly NodeDrift[];
  readonly report: string;
  readonly exitCode: number;
  /** The URNs of the drifted nodes' pushes: what `up --replace` takes. */
  readonly replace: readonly string[];
}

export async function labDrift(lab: Lab): Promise<LabDrift> {
  const stack = lab.options.stack;
  const fleet = lab.fleet();
  const facts = Object.fromEntries(lab.facts());
  const results = await checkDrift(fleet, facts, (node) => lab.ssh(node, STATE_COMMAND));
  const urnOf = (node: string) => pushUrn(stack, projectName(PROJECT_DIR), node);
  const up: UpCommand = (urns) =>
    `npm run lab -- up --stack ${stack} ${urns.map((u) => `--replace '${u}'`).join(" ")}`;
  return {
    results,
    report: renderDriftReport(fleet.mesh.name, results, urnOf, up),
    exitCode: driftExitCode(results),
    replace: results.filter((r) => r.kind === "drifted").map((r) => urnOf(r.node)),
  };
}
