// How the operator's machine reaches a node: its routes (the same as ssh_config's), pinned to
// host keys. A push dials them itself (cli/push.ts); the few remote.Commands get them as a
// connection. Each command dials its own connection: nothing is multiplexed or reused.
import * as pulumi from "@pulumi/pulumi";
import type { types } from "@pulumi/command";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
import { managementRoute } from "../core/plan/route";
import type { Hop, Route } from "../core/delivery/plan";
import type { FleetFacts, SshCredentials } from "./context";

type ConnectionArgs = types.input.remote.ConnectionArgs;

/** Seconds each dial may take to connect. */
export const PER_DIAL_TIMEOUT = 15;

/** One node's entry in the fleet's facts. */
function nodeFactsOf(facts: FleetFacts, name: string) {
  const f = facts[name];
  if (!f) throw new Error(`no facts for node ${name}`);
  return f;
}

/**
 * First contact: the address the operator's machine first reaches the node at (public, or the
 * one given for a host behind NAT), as `user`, pinned to the node's host key.
 */
export function firstContactRoute(
  node: FleetNode,
  user: string,
  port: number,
  facts: FleetFacts,
): Route {
  const self = nodeFactsOf(facts, node.name);
  const reach =
    node.address.kind === "nat" && node.address.firstContact
      ? node.address.firstContact
      : { host: self.publicIpv4 ?? "", port };
  return { host: reach.host, port: reach.port, user, hostKey: self.hostKey };
}

/** The management path: public SSH, the mesh through the entry node, or the mesh directly. */
export function managementHops(fleet: Fleet, node: FleetNode, facts: FleetFacts): Route {
  const { adminUser, port } = fleet.ssh;
  const route = managementRoute(fleet, node);
  const self = nodeFactsOf(facts, node.name);
  const to = (host: string): Hop => ({ host, port, user: adminUser, hostKey: self.hostKey });
  if (route.via === "public") return to(self.publicIpv4 ?? node.meshIp);
  if (!route.jump) return to(node.meshIp);
  const jump = nodeFactsOf(facts, route.jump);
  return {
    ...to(node.meshIp),
    proxy: { host: jump.publicIpv4 ?? "", port, user: adminUser, hostKey: jump.hostKey },
  };
}

/**
 * The key, or nothing: with no key the provider uses the agent in SSH_AUTH_SOCK by itself
 * (pulumi-command remote/connection_unix.go). Naming the socket here would put its path — new
 * in every login session — into every connection, and any input change re-runs a command.
 */
function authOf(credentials: SshCredentials): pulumi.Output<{ privateKey?: string }> {
  return "privateKey" in credentials
    ? credentials.privateKey.apply((k) => ({ privateKey: k }))
    : pulumi.output({});
}

/** A remote.Command connection along the management path, with the operator's key or agent. */
export function managementConnection(
  fleet: Fleet,
  node: FleetNode,
  facts: pulumi.Output<FleetFacts>,
  credentials: SshCredentials,
  attempts: number,
): pulumi.Output<ConnectionArgs> {
  // The provider dials dialErrorLimit + 1 times (remote/connection.go dialWithRetry).
  const dial = { dialErrorLimit: attempts - 1, perDialTimeout: PER_DIAL_TIMEOUT };
  return pulumi
    .all([facts.apply((f) => managementHops(fleet, node, f)), authOf(credentials)])
    .apply(([route, auth]): ConnectionArgs => {
      const { proxy, ...target } = route;
      return {
        ...target,
        ...dial,
        ...auth,
        ...(proxy && { proxy: { ...proxy, ...dial, ...auth } }),
      };
    });
}
