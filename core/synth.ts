// synth: a fleet spec to the files a reviewer reads and a push uploads, with placeholders
// where only a real deployment knows the value (keys, cloud-assigned addresses).
import type { Fleet } from "./fleet/fleet";
import { validateFleet } from "./fleet/validate";
import { placeholderDeployment, type Deployment } from "./plan/deployment";
import { planFleet } from "./plan/plan";
import type { FleetPlan } from "./plan/model";
import { renderBundle } from "./render/bundle";
import { renderFleetJson } from "./render/fleetJson";
import { renderSshConfig } from "./render/sshConfig";

export interface Synthesis {
  readonly fleet: Fleet;
  readonly plan: FleetPlan;
  /** Output files by path relative to the output directory, sorted. */
  readonly files: ReadonlyMap<string, string>;
}

export function synthesize(rawFleet: unknown, deployment?: Deployment): Synthesis {
  const fleet = validateFleet(rawFleet);
  return synthesizeFleet(fleet, deployment ?? placeholderDeployment(fleet));
}

export function synthesizeFleet(fleet: Fleet, deployment: Deployment): Synthesis {
  const plan = planFleet(fleet, deployment);
  const files = new Map<string, string>([
    ["fleet.json", renderFleetJson(plan, fleet.peers)],
    ["ssh_config", renderSshConfig(fleet, plan)],
  ]);
  for (const node of plan.nodes) {
    for (const [path, content] of renderBundle(node))
      files.set(`nodes/${node.name}/${path}`, content);
  }
  return { fleet, plan, files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))) };
}
