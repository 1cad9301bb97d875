// Who a new host first lets in: the account its image gives the operator's key to.
import type { FleetNode } from "../core/fleet/fleet";

const AWS_USERS = { nixos: "root", ubuntu: "ubuntu", debian: "admin", alpine: "alpine" } as const;

export function initialUser(node: FleetNode, adminUser: string): string {
  switch (node.provider) {
    case "vultr":
      return "root";
    case "aws":
      return AWS_USERS[node.os];
    case "existing":
      // The operator's own machine: the admin account is already there.
      return adminUser;
    default: {
      const exhaustive: never = node.provider;
      return exhaustive;
    }
  }
}

/**
 * First contact needs an address the operator's machine reaches: a public one, or the one given
 * for a host behind NAT. Without it, a host behind NAT must already be on the mesh.
 */
export function needsBootstrap(node: FleetNode): boolean {
  return node.address.kind !== "nat" || node.address.firstContact !== undefined;
}
