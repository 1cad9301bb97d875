// A Vultr instance behind the firewall group of its public ports, shared with every node that
// opens the same. NixOS starts from Vultr's Ubuntu image and is converted by nixos-infect on
// first boot (seed 001).
import * as pulumi from "@pulumi/pulumi";
import * as vultr from "@ediri/vultr";
import type { Os } from "../../core/fleet/catalog";
import { userDataFor } from "../../core/render/userData";
import type { CloudContext } from "../cloud";
import { Lean, LEAN } from "../lean";
import {
  holdsState,
  install,
  sharedFirewall,
  type Host,
  type HostArgs,
  type HostDriver,
} from "./types";

/** Vultr's names for the images each os starts from. */
export const VULTR_IMAGES: Record<Os, string> = {
  // nixos-infect's README sets Vultr up from an Ubuntu box; 22.04 is the release it lists as
  // tested there (Ubuntu supports it until 2027-04).
  nixos: "Ubuntu 22.04 LTS x64",
  debian: "Debian 12 x64 (bookworm)",
  ubuntu: "Ubuntu 24.04 LTS x64",
  alpine: "Alpine Linux x64",
};

export const vultrDriver: HostDriver = {
  create: (args, cloud) => vultrHost(args, cloud),
  // Vultr's images let the instance's SSH keys into root.
  firstUser: () => "root",
  ipv6: true,
};

function vultrHost(args: HostArgs, cloud: CloudContext): Host {
  const { name, node, parent } = args;
  const image = vultr.getOsOutput(
    { filters: [{ name: "name", values: [VULTR_IMAGES[node.os]] }] },
    { parent },
  );
  const { group, rules } = vultrFirewall(args, cloud);
  const instance = new Lean(
    LEAN.vultrInstance,
    name,
    {
      plan: node.plan ?? "",
      region: node.region,
      osId: image.id.apply((id) => Number(id)),
      hostname: name,
      label: `${args.mesh}-${name}`,
      sshKeyIds: [cloud.vultrSshKey().id],
      firewallGroupId: group.id,
      enableIpv6: true,
      backups: "disabled",
      activationEmail: false,
      userData: args.identity
        ? pulumi.secret(
            args.identity.apply((identity) =>
              userDataFor("vultr", node.os, identity, install(args)),
            ),
          )
        : "",
      tags: ["clawd-mesh", args.mesh],
    } satisfies vultr.InstanceArgs,
    ["mainIp", "v6MainIp"],
    // Vultr replaces a server whose os, user data, keys or hostname change (all force-new).
    // They only matter at first boot, so a new image or nixos-infect pin applies to new servers
    // only (the push keeps the running ones current), a new operator key reaches servers by
    // the push, and a renamed node keeps its server (its label changes in place).
    {
      parent,
      dependsOn: rules,
      ignoreChanges: ["osId", "userData", "sshKeyIds", "hostname"],
      protect: holdsState(node),
    },
  );
  return {
    machine: instance.id,
    publicIpv4: instance.mainIp.apply((ip) => ip || null),
    publicIpv6: instance.v6MainIp.apply((ip) => ip || null),
    resources: [instance, group, ...rules],
  };
}

/**
 * The firewall group for the node's public rules, with its rules (Vultr's groups are not
 * regional). A rule has no update: every field replaces it.
 */
function vultrFirewall(args: HostArgs, cloud: CloudContext) {
  return sharedFirewall(args, cloud, { provider: "vultr" }, ({ name, rules, summary }, parent) => {
    const group = new vultr.FirewallGroup(
      name,
      { description: `clawd-mesh ${args.mesh}: ${summary}` },
      { parent },
    );
    const ruleResources = rules.flatMap((rule) => {
      const families: ("v4" | "v6")[] = rule.cidr ? ["v4"] : ["v4", "v6"];
      return families.map((ipType) => {
        const [subnet, size] = rule.cidr?.split("/") ?? [ipType === "v4" ? "0.0.0.0" : "::", "0"];
        const suffix = rule.cidr ? `-from-${(subnet ?? "").replace(/[.:]/g, "-")}-${size}` : "";
        return new vultr.FirewallRule(
          `${name}-${rule.protocol}-${rule.port}-${ipType}${suffix}`,
          {
            firewallGroupId: group.id,
            protocol: rule.protocol,
            ipType,
            subnet: subnet ?? "",
            subnetSize: Number(size),
            port: String(rule.port),
            notes: rule.note,
          },
          { parent },
        );
      });
    });
    return { group, rules: ruleResources };
  });
}
