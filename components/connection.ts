// SSH connections to a node along its management route, pinned to its host key. Each
// command resource dials its own connection: nothing is multiplexed or reused.
import * as pulumi from "@pulumi/pulumi";
import type { types } from "@pulumi/command";
import type { Fleet, FleetNode } from "../core/spec/fleet";
import { managementRoute } from "../core/plan/route";
import type { FleetFacts, SshCredentials } from "./context";

type ConnectionArgs = types.input.remote.ConnectionArgs;

/** About ten minutes of retries for a host that is still booting; then the push fails. */
export const DIAL = { dialErrorLimit: 40, perDialTimeout: 15 } as const;

function factsOf(facts: FleetFacts, name: string) {
  const f = facts[name];
  if (!f) throw new Error(`no facts for node ${name}`);
  return f;
}

export function managementConnection(
  fleet: Fleet,
  node: FleetNode,
  facts: pulumi.Output<FleetFacts>,
  credentials: SshCredentials,
): pulumi.Output<ConnectionArgs> {
  const key: pulumi.Output<{ privateKey: string } | { agentSocketPath: string }> =
    "privateKey" in credentials
      ? credentials.privateKey.apply((k) => ({ privateKey: k }))
      : pulumi.output({ agentSocketPath: credentials.agentSocketPath });
  return pulumi.all([facts, key]).apply(([f, auth]): ConnectionArgs => {
    const route = managementRoute(fleet, node);
    const self = factsOf(f, node.name);
    const base = {
      user: fleet.ssh.adminUser,
      port: fleet.ssh.port,
      hostKey: self.hostKey,
      ...DIAL,
      ...auth,
    };
    if (route.via === "public") return { ...base, host: self.publicIpv4 ?? node.meshIp };
    if (!route.jump) return { ...base, host: node.meshIp };
    const jump = factsOf(f, route.jump);
    return {
      ...base,
      host: node.meshIp,
      proxy: {
        host: jump.publicIpv4 ?? "",
        port: fleet.ssh.port,
        user: fleet.ssh.adminUser,
        hostKey: jump.hostKey,
        ...DIAL,
        ...auth,
      },
    };
  });
}
