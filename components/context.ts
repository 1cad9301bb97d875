// What the components share: the facts every node's push needs about the others, the
// operator's SSH credentials, and the provider-side resources used by many nodes.
import type * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../core/fleet/fleet";
import type { Deployment } from "../core/plan/deployment";
import type { FleetPlan } from "../core/plan/model";
import { planFleet } from "../core/plan/plan";

/** What one node's peers and connections need to know about it. */
export interface NodeFacts {
  readonly wgPublicKey: string;
  /** The address the internet reaches it at; null behind NAT. */
  readonly publicIpv4: string | null;
  /** Its SSH host key, which every connection to it is pinned to. */
  readonly hostKey: string;
  /** Its WireGuard key of the generation before, once rotated (a peer may keep it a while). */
  readonly previousWgPublicKey?: string;
}

export type FleetFacts = Readonly<Record<string, NodeFacts>>;

export function deploymentOf(facts: FleetFacts): Deployment {
  const of = (name: string): NodeFacts => {
    const f = facts[name];
    if (!f) throw new Error(`no facts for node ${name}`);
    return f;
  };
  return {
    publicKeyOf: (name) => of(name).wgPublicKey,
    cloudIpOf: (name) => of(name).publicIpv4 ?? "",
  };
}

/** The operator's key: a Pulumi secret, or a running ssh-agent. */
export type SshCredentials =
  { readonly privateKey: pulumi.Output<string> } | { readonly agentSocketPath: string };

const plans = new WeakMap<FleetFacts, WeakMap<Fleet, FleetPlan>>();

/**
 * The whole fleet planned with these facts, once: the operator's ssh_config, the peers' configs
 * and the vault rollout all read it, and a 254-node plan takes a noticeable part of a second.
 */
export function fleetPlanOf(fleet: Fleet, facts: FleetFacts): FleetPlan {
  const byFleet = plans.get(facts) ?? new WeakMap<Fleet, FleetPlan>();
  plans.set(facts, byFleet);
  let plan = byFleet.get(fleet);
  if (!plan) {
    plan = planFleet(fleet, deploymentOf(facts));
    byFleet.set(fleet, plan);
  }
  return plan;
}
