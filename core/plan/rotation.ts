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
// The hub: every other node is its peer, and all but the public ones are reached through it.
// Pushing the spokes first (each naming the new key) would cut each off from the hub, and so
// from the operator, before the hub had switched. So the hub goes first, and before its switch
// its push has every other node follow it "ahead": their configurations still name the hub's
// previous key; each adds the new key beside it and tries to reach the hub on it, and the
// hub's addresses go to whichever key completed a handshake last. The spokes' own pushes come
// after the hub's is confirmed, name the new key, and end the follow (apply.sh). A hub whose
// switch is not confirmed goes back to its previous key; the followers still hold that one,
// and the addresses go back with the next handshake.
//
// Refused: an entry node that is not the hub (the nodes reached through it would lose it,
// or, if pushed after it, be pushed through a node that no longer knows them: not built yet),
// and any rotation that would lose a node this machine reaches over its own tunnel (the
// program cannot change this machine's peer during the push).
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

/** A hub whose key has been rotated (a generation above 0): others follow it ahead. */
export function rotatedHub(fleet: Fleet): FleetNode | undefined {
  const hub = hubOf(fleet);
  return hub?.wireguardKeyGeneration ? hub : undefined;
}

/**
 * The nodes that follow `node` ahead to its new key, before its switch: every other node,
 * when `node` is the hub and its key was rotated (they all hold it as their one peer).
 */
export function aheadFollowers(fleet: Fleet, node: FleetNode): string[] {
  if (rotatedHub(fleet)?.name !== node.name) return [];
  return fleet.nodes
    .filter((n) => n.name !== node.name)
    .map((n) => n.name)
    .sort();
}

/**
 * The nodes whose pushes a node's push waits for: those on its management path (they learn
 * of a new node, key or address before it is reached through them), except around a rotated
 * hub. Its push goes first, even before the entry node it is reached through (whose running
 * configuration still names the hub's previous key, and so still reaches it), and every other
 * push waits for it: each names the hub's new key, which only the hub's switch makes good.
 * Which generation was running before is not known to the program, so the order holds as
 * long as the hub's generation is above 0; it only orders pushes, and runs none.
 */
export function pushWaitsFor(fleet: Fleet, node: FleetNode): string[] {
  const path = pathNodes(fleet, node);
  const hub = rotatedHub(fleet);
  if (!hub) return path;
  if (hub.name === node.name) return [];
  return [...new Set([...path, hub.name])];
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
      if (carried.length > 0) {
        return [
          {
            node,
            message: `is the entry node, on the management path of ${carried.length} node(s) (${some(carried)}): they would be unreachable from its switch until each had its new key, and each is pushed through it`,
            fix: "leave wireguardKeyGeneration as it was: rotating an entry node's key is not supported yet (a hub's is)",
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
