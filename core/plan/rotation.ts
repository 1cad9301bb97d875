// Rotating a node's WireGuard key without losing the node. Two ways, by where the node sits.
//
// A spoke, or any node the operator reaches through one peer of its own (the hub in hub-spoke,
// otherwise the entry node): that peer learns the new key in its own push, which runs first;
// until the node's own push switches it, the node still holds the key of the generation
// before, and the peer no longer knows that one. So the node's push first has the peer follow
// it (`clawd-mesh-receive wg-follow`, "behind": the peer's configuration names the new key):
// the node's address goes to whichever of its two keys last completed a handshake, until the
// new one has; then the peer's own configuration is back.
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
// Refused: the entry node of a hub-spoke mesh (the hub, which it alone follows, is reached
// through it, and goes before it once its own key was rotated: the two orders cannot both
// hold, and the program does not know which generation changed), and any rotation that would
// lose a node this machine reaches over its own tunnel (the program cannot change this
// machine's peer during the push).
import type { Fleet, FleetNode } from "../fleet/fleet";
import { managementRoute, pathNodes } from "./route";
import { hubOf } from "./wireguard";

/**
 * The node that must follow `node` to its new key during its push, its configuration already
 * naming the new key ("behind"); none if nothing must, or if others follow it ahead.
 */
export function keyFollower(fleet: Fleet, node: FleetNode): string | undefined {
  if (!node.wireguardKeyGeneration) return undefined;
  const route = managementRoute(fleet, node);
  if (route.via === "public") return undefined;
  const hub = hubOf(fleet);
  if (hub?.name === node.name) return undefined;
  return hub ? hub.name : route.jump;
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
 * of a new node, key or address before it is reached through them), except around a rotated
 * hub or full-mesh entry node. Its push goes first, even before the entry node a hub is
 * reached through (whose running configuration still names the hub's previous key, and so
 * still reaches it), and every other push waits for it: each names the new key, which only
 * its switch makes good. Which generation was running before is not known to the program, so
 * the order holds as long as the generation is above 0; it only orders pushes, and runs none.
 */
export function pushWaitsFor(fleet: Fleet, node: FleetNode): string[] {
  const path = pathNodes(fleet, node);
  const leader = rotatedLeader(fleet);
  if (!leader) return path;
  if (leader.name === node.name) return [];
  return [...new Set([...path, leader.name])];
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
    } else {
      const carried = fleet.nodes
        .filter((n) => n.name !== node.name && pathNodes(fleet, n).includes(node.name))
        .map((n) => n.name);
      if (carried.length > 0 && rotatedLeader(fleet)?.name !== node.name) {
        return [
          {
            node,
            message: `is the entry node of a hub-spoke mesh, on the management path of ${carried.length} node(s) (${some(carried)}): they would be unreachable from its switch until the hub had its new key, and the hub is pushed through it`,
            fix: "leave wireguardKeyGeneration as it was: rotating the key of a hub-spoke mesh's entry node is not supported yet (a hub's is, and a full mesh's entry node's)",
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
