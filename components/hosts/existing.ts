// A host that already exists: nothing is created, it is only configured.
import * as pulumi from "@pulumi/pulumi";
import type { HostDriver } from "./types";

export const existingDriver: HostDriver = {
  create({ node }) {
    const ip = node.address.kind === "static" ? node.address.ip : null;
    return {
      // The machine its owner runs at this address; a new address is taken as a new one.
      machine: pulumi.output(`existing:${ip ?? "nat"}`),
      publicIpv4: pulumi.output(ip),
      publicIpv6: pulumi.output(null),
      resources: [],
    };
  },
  // The operator's own machine: the admin account is already there.
  firstUser: (_node, adminUser) => adminUser,
  ipv6: false,
};
