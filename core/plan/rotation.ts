// Rotating a node's WireGuard key without losing the node. The operator's connection to a node
// on the mesh passes one node that is its WireGuard peer: the hub in hub-spoke, otherwise the
// entry node. That peer learns the new key in its own push, which runs first; until the node's
// own push switches it, the node still holds the key of the generation before, and the peer no
// longer knows that one. So the node's push first has the peer follow it
// (`clawd-mesh-receive wg-follow`): the node's address goes to whichever of its two keys last
// completed a handshake, until the new one has; then the peer's own configuration is back.
// A node that carries others' management path, or that this machine reaches over its own
// tunnel, has no such peer to follow it: rotating its key is refused.
import type { Fleet, FleetNode } from "../fleet/fleet";
import { managementRoute, pathNodes } from "./route";
import { hubOf } from "./wireguard";

/** The node that must follow `node` to its new key during its push; none if nothing must. */
export function keyFollower(fleet: Fleet, node: FleetNode): string | undefined {
  if (!node.wireguardKeyGeneration) return undefined;
  const route = managementRoute(fleet, node);
  if (route.via === "public") return undefined;
  const hub = hubOf(fleet);
  return hub && hub.name !== node.name ? hub.name : route.jump;
}

export interface RotationProblem {
  readonly node: FleetNode;
  readonly message: string;
  readonly fix: string;
}

/** Rotations the push cannot carry out without losing a node. */
export function rotationProblems(fleet: Fleet): RotationProblem[] {
  return fleet.nodes.flatMap((node): RotationProblem[] => {
    if (!node.wireguardKeyGeneration) return [];
    const carried = fleet.nodes
      .filter((n) => n.name !== node.name && pathNodes(fleet, n).includes(node.name))
      .map((n) => n.name);
    if (carried.length > 0) {
      const shown =
        carried.length > 3 ? `${carried.slice(0, 3).join(", ")}, …` : carried.join(", ");
      return [
        {
          node,
          message: `is on the management path of ${carried.length} node(s) (${shown}): they would be unreachable from its switch until each had its new key, and each is pushed through it`,
          fix: "leave wireguardKeyGeneration as it was: rotating a hub's or an entry node's key is not supported yet",
        },
      ];
    }
    if (managementRoute(fleet, node).via === "mesh" && keyFollower(fleet, node) === undefined) {
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
