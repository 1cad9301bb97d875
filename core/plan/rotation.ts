// Rotating a node's WireGuard key without losing the node. Two ways, by where the node sits.
//
// Any node but the hub (and, in a full mesh, the entry node): the node it is reached through
// (the hub in hub-spoke, else the entry node) is its "follower". The follower learns the new
// key in its own push, which runs first; until the node's own push switches it, the node
// still holds the key of the generation before, and the follower no longer knows that one.
// So the node's push first has the follower follow it (`clawd-mesh-receive wg-follow`,
// "behind": the follower's configuration names the new key): the node's address goes to
// whichever of its two keys last completed a handshake, until the new one has; then the
// follower's own configuration is back.
// The entry node of a hub-spoke mesh is reached from here and carries the way to the hub:
// the hub, pushed through it, is its follower all the same. The hub's push goes first and,
// right after its switch, the hub keeps the entry node's previous key itself (a "kept" key:
// apply.sh starts the same follow), so its own confirmation, which comes through the entry
// node, still finds it.
//
// The hub (and, in a full mesh, the entry node): every other node is its peer, and all but the
// public ones are reached through it.
// Pushing the spokes first (each naming the new key) would cut each off from the hub, and so
// from the operator, before the hub had switched. So the hub goes first, and before its switch
// its push has every other node follow it "ahead": their configurations still name the hub's
// previous key; each adds the new key beside it and tries to reach the hub on it, and the
// hub's addresses go to whichever key completed a handshake last. The spokes' own pushes come
// after the hub's is confirmed, name the new key, and end the follow (apply.sh). A hub whose
// switch is not confirmed goes back to its previous key; the followers still hold that one,
// and the addresses go back with the next handshake.
//
// So every key can be rotated in one up. Refused: any rotation that would lose a node this
// machine reaches over its own tunnel (the program cannot change this machine's peer during
// the push).
import type { Fleet, FleetNode } from "../fleet/fleet";
import { managementRoute, pathNodes } from "./route";
import { hubOf } from "./wireguard";

/**
 * The node that must follow `node` to its new key during its push, its configuration already
 * naming the new key ("behind"); none if nothing must, or if others follow it ahead.
 */
export function keyFollower(fleet: Fleet, node: FleetNode): string | undefined {
  if (!node.wireguardKeyGeneration) return undefined;
  const hub = hubOf(fleet);
  if (hub) return hub.name === node.name ? undefined : hub.name;
  const route = managementRoute(fleet, node);
  return route.via === "mesh" && "jump" in route ? route.jump : undefined;
}

/**
 * The rotated nodes whose previous key `node` keeps from its own switch (apply.sh): those it
 * follows and is reached through (a hub-spoke mesh's entry node, for the hub). Its
 * confirmation comes through them, before their own pushes.
 */
export function keptKeys(fleet: Fleet, node: FleetNode): string[] {
  const path = pathNodes(fleet, node);
  return fleet.nodes
    .filter((n) => path.includes(n.name) && keyFollower(fleet, n) === node.name)
    .map((n) => n.name);
}

/**
 * The node the others follow ahead when its key was rotated (a generation above 0): the hub,
 * or, in a full mesh, the entry node the others are reached through. Both are every other
 * node's peer, and carry the operator's way to them.
 */
export function rotatedLeader(fleet: Fleet): FleetNode | undefined {
  const hub = hubOf(fleet);
  const leader =
    fleet.mesh.topology === "hub-spoke" ? hub : fleet.nodes.find((n) => n.roles.includes("entry"));
  return leader?.wireguardKeyGeneration ? leader : undefined;
}

/**
 * The nodes that follow `node` ahead to its new key, before its switch: every other node,
 * when `node` is the rotated hub or full-mesh entry node (they all hold it as a peer).
 */
export function aheadFollowers(fleet: Fleet, node: FleetNode): string[] {
  if (rotatedLeader(fleet)?.name !== node.name) return [];
  return fleet.nodes
    .filter((n) => n.name !== node.name)
    .map((n) => n.name)
    .sort();
}

/**
 * The nodes whose pushes a node's push waits for: those on its management path (they learn
 * of a new node, key or address before it is reached through them), and its follower when its
 * key was rotated; the follower in turn does not wait for it (the hub for a hub-spoke mesh's
 * entry node: it keeps the entry node's previous key instead). Around a rotated hub or
 * full-mesh entry node, its push goes first, even before the entry node a hub is reached
 * through (whose running configuration still names the hub's previous key, and so still
 * reaches it), and every other push waits for it: each names the new key, which only its
 * switch makes good. Which generation was running before is not known to the program, so the
 * order holds as long as the generation is above 0; it only orders pushes, and runs none.
 * With the k3s join token rotated, an agent's push waits for the server's too.
 */
export function pushWaitsFor(fleet: Fleet, node: FleetNode): string[] {
  const server = k3sServerFirst(fleet, node);
  return [...new Set([...rotationWaits(fleet, node), ...(server ? [server] : [])])];
}

/** What a push waits for by management paths and WireGuard key rotations alone. */
function rotationWaits(fleet: Fleet, node: FleetNode): string[] {
  const leader = rotatedLeader(fleet);
  if (leader?.name === node.name) return [];
  const kept = keptKeys(fleet, node);
  const follower = keyFollower(fleet, node);
  return [
    ...pathNodes(fleet, node).filter((n) => !kept.includes(n)),
    ...(follower ? [follower] : []),
    ...(leader ? [leader.name] : []),
  ];
}

/**
 * With the k3s join token rotated (a generation above 0), an agent's push waits for the
 * server's: the server takes the new token first (apply.sh), and an agent restarted with it
 * before then could not join. Not when the server's push waits for the agent's, directly or
 * through others (the agent is the hub, or on the server's management path): the agent then
 * restarts first, and joins once the server's push is through.
 */
function k3sServerFirst(fleet: Fleet, node: FleetNode): string | undefined {
  if (!node.roles.includes("k3s-agent")) return undefined;
  const server = fleet.nodes.find((n) => n.roles.includes("k3s-server"));
  if (!server?.k3s?.tokenGeneration) return undefined;
  const before = new Set<string>();
  const visit = (name: string): void => {
    const n = fleet.nodes.find((m) => m.name === name);
    for (const w of n ? rotationWaits(fleet, n) : []) {
      if (before.has(w)) continue;
      before.add(w);
      visit(w);
    }
  };
  visit(server.name);
  return before.has(node.name) ? undefined : server.name;
}

export interface RotationProblem {
  readonly node: FleetNode;
  readonly message: string;
  readonly fix: string;
}

/** A few names, then "…": a message stays one line on a large fleet. */
function some(names: readonly string[]): string {
  return names.length > 3 ? `${names.slice(0, 3).join(", ")}, …` : names.join(", ");
}

/** Rotations the push cannot carry out without losing a node. */
export function rotationProblems(fleet: Fleet): RotationProblem[] {
  return fleet.nodes.flatMap((node): RotationProblem[] => {
    if (!node.wireguardKeyGeneration) return [];
    const direct = (n: FleetNode) => {
      const r = managementRoute(fleet, n);
      return r.via === "mesh" && r.jump === undefined;
    };
    if (hubOf(fleet)?.name === node.name) {
      // The hub's own route is checked below; here, the spokes behind this machine's tunnel.
      const lost = fleet.nodes.filter((n) => n.name !== node.name && direct(n)).map((n) => n.name);
      if (lost.length > 0 && !direct(node)) {
        return [
          {
            node,
            message: `is the hub, and ${lost.length} node(s) (${some(lost)}) are reached over this machine's own tunnel to it, which names its key: they would be lost at its switch, and the program cannot change this machine's peer during the push`,
            fix: 'give the fleet an "entry" node to manage them through, or leave wireguardKeyGeneration as it was',
          },
        ];
      }
    }
    if (direct(node) && keyFollower(fleet, node) === undefined) {
      return [
        {
          node,
          message:
            "is reached over this machine's own tunnel to the mesh, which would lose it at its switch: the program cannot change this machine's peer during the push",
          fix: 'give the fleet an "entry" node to manage it through, or leave wireguardKeyGeneration as it was',
        },
      ];
    }
    return [];
  });
}
