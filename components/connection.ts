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

/** First contact: the public address, the image's initial account, the pinned host key. */
export function publicConnection(
  node: FleetNode,
  user: string,
  port: number,
  facts: pulumi.Output<FleetFacts>,
  credentials: SshCredentials,
): pulumi.Output<ConnectionArgs> {
  return pulumi.all([facts, authOf(credentials)]).apply(([f, auth]): ConnectionArgs => {
    const self = factsOf(f, node.name);
    return { host: self.publicIpv4 ?? "", port, user, hostKey: self.hostKey, ...DIAL, ...auth };
  });
}

function authOf(credentials: SshCredentials) {
  const key: pulumi.Output<{ privateKey: string } | { agentSocketPath: string }> =
    "privateKey" in credentials
      ? credentials.privateKey.apply((k) => ({ privateKey: k }))
      : pulumi.output({ agentSocketPath: credentials.agentSocketPath });
  return key;
}

export function managementConnection(
  fleet: Fleet,
  node: FleetNode,
  facts: pulumi.Output<FleetFacts>,
  credentials: SshCredentials,
): pulumi.Output<ConnectionArgs> {
  return pulumi.all([facts, authOf(credentials)]).apply(([f, auth]): ConnectionArgs => {
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
