// The connection the operator's side dials for a route of the program's plans: each hop
// pinned to its host key, with the plan's dial budget, and the operator's key unless an agent
// holds it (then operator/ssh.ts finds SSH_AUTH_SOCK).
import type { Dial, Route } from "../core/delivery/plan";
import type { SshConnection } from "./ssh";

export function routeConnection(route: Route, dial: Dial, key?: string): SshConnection {
  const hop = (h: Omit<Route, "proxy">): Omit<SshConnection, "proxy"> => ({
    host: h.host,
    port: h.port,
    user: h.user,
    hostKey: h.hostKey,
    dialErrorLimit: dial.attempts - 1,
    perDialTimeout: dial.perDialTimeout,
    ...(key && { privateKey: key }),
  });
  return { ...hop(route), ...(route.proxy && { proxy: hop(route.proxy) }) };
}

export function describeRoute(r: Route): string {
  return `${r.user}@${r.host}:${r.port}${r.proxy ? ` via ${r.proxy.user}@${r.proxy.host}` : ""}`;
}
