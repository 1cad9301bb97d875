// Who a new host first lets in, and whether first contact can reach it.
import type { FleetNode } from "../core/fleet/fleet";
import { HOST_DRIVERS } from "./hosts/drivers";

/** The account a new host first lets the operator's key into (its provider's driver says). */
export function initialUser(node: FleetNode, adminUser: string): string {
  return HOST_DRIVERS[node.provider].firstUser(node, adminUser);
}

/**
 * First contact needs an address the operator's machine reaches: a public one, or the one given
 * for a host behind NAT. Without it, a host behind NAT must already be on the mesh.
 */
export function needsBootstrap(node: FleetNode): boolean {
  return node.address.kind !== "nat" || node.address.firstContact !== undefined;
}
