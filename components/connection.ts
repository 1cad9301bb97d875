// SSH connections to a node along its management route, pinned to its host key. Each
// command resource dials its own connection: nothing is multiplexed or reused.
import * as pulumi from "@pulumi/pulumi";
import type { types } from "@pulumi/command";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
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

type Auth = { privateKey: string } | Record<string, never>;

/**
 * The key, or nothing: with no key the provider uses the agent in SSH_AUTH_SOCK by itself
 * (pulumi-command remote/connection_unix.go). Naming the socket here would put its path — new
 * in every login session — into every connection, and any input change re-runs a command.
 */
function authOf(credentials: SshCredentials): pulumi.Output<Auth> {
  return "privateKey" in credentials
    ? credentials.privateKey.apply((k) => ({ privateKey: k }))
    : pulumi.output({});
}

/** One SSH hop: where, as whom, the key the host must show, and the shared dial limits. */
function hop(host: string, port: number, user: string, hostKey: string, auth: Auth) {
  return { host, port, user, hostKey, ...DIAL, ...auth };
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
    return hop(self.publicIpv4 ?? "", port, user, self.hostKey, auth);
  });
}

export function managementConnection(
  fleet: Fleet,
  node: FleetNode,
  facts: pulumi.Output<FleetFacts>,
  credentials: SshCredentials,
): pulumi.Output<ConnectionArgs> {
  const { adminUser, port } = fleet.ssh;
  return pulumi.all([facts, authOf(credentials)]).apply(([f, auth]): ConnectionArgs => {
    const route = managementRoute(fleet, node);
    const self = factsOf(f, node.name);
    const to = (host: string) => hop(host, port, adminUser, self.hostKey, auth);
    if (route.via === "public") return to(self.publicIpv4 ?? node.meshIp);
    if (!route.jump) return to(node.meshIp);
    const jump = factsOf(f, route.jump);
    return {
      ...to(node.meshIp),
      proxy: hop(jump.publicIpv4 ?? "", port, adminUser, jump.hostKey, auth),
    };
  });
}
