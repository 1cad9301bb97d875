// An EC2 instance from an official image looked up by owner and name, behind the security group
// of its public ports (shared by the region's nodes that open the same), with an Elastic IP and
// IMDSv2 required.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
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

export interface AmiSource {
  /** The publisher's account id. */
  readonly owner: string;
  /** The image name pattern (x86_64); NixOS's names the stack's release. */
  readonly name: (nixosRelease: string | undefined) => string;
  /** What to change when no image matches. */
  readonly fix: string;
}

/** Publishers' account ids and image names (x86_64). */
export const AMIS: Record<Os, AmiSource> = {
  nixos: {
    owner: "427812963091",
    name: (release) => `nixos/${release ?? "?"}*-x86_64-linux`,
    // NixOS publishes images per release and removes them about a year later.
    fix: "move fleet.nixpkgs.branch (and its rev and sha256) to a NixOS release that still has images (README: Upgrading NixOS)",
  },
  ubuntu: {
    owner: "099720109477",
    name: () => "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
    fix: "check that the region is enabled for the account, or use another os",
  },
  debian: {
    owner: "136693071363",
    name: () => "debian-12-amd64-*",
    fix: "check that the region is enabled for the account, or use another os",
  },
  alpine: {
    owner: "538276064493",
    name: () => "alpine-3.*-x86_64-bios-cloudinit-*",
    fix: "check that the region is enabled for the account, or use another os",
  },
};

/** The message for a lookup that found nothing: what was asked for, where, and the fix. */
export function noImageMessage(
  name: string,
  os: Os,
  region: string,
  nixosRelease: string | undefined,
): string {
  const image = AMIS[os];
  const what = os === "nixos" ? `official NixOS ${nixosRelease ?? "?"} image` : `${os} image`;
  return `${name}: AWS has no ${what} in ${region} (owner ${image.owner}, name ${image.name(nixosRelease)}). Fix: ${image.fix}.`;
}

/** The account each image gives the key pair to. */
const AWS_USERS: Record<Os, string> = {
  nixos: "root",
  ubuntu: "ubuntu",
  debian: "admin",
  alpine: "alpine",
};

export const awsDriver: HostDriver = {
  create: (args, cloud) => awsHost(args, cloud),
  firstUser: (node) => AWS_USERS[node.os],
  ipv6: false,
};

function awsHost(args: HostArgs, cloud: CloudContext): Host {
  const { name, node, parent } = args;
  const provider = cloud.awsProvider(node.region);
  const opts = { parent, provider };
  const tags = { Name: name, "clawd-mesh:mesh": args.mesh };
  const image = AMIS[node.os];
  const release = args.nixos?.pin.release;
  // getAmiIds answers an empty list where getAmi fails with the provider's own words ("Your
  // query returned no results"); the program says instead which release and region had none.
  const ami = aws.ec2
    .getAmiIdsOutput(
      {
        owners: [image.owner],
        sortAscending: false, // newest first
        filters: [
          { name: "name", values: [image.name(release)] },
          { name: "architecture", values: ["x86_64"] },
        ],
      },
      { parent, provider },
    )
    .apply(({ ids }) => {
      const newest = ids[0];
      if (newest !== undefined) return newest;
      // The instance is never declared. The rejection reaches the CLI through every input
      // that depends on it, each adding its property name, so the plain line is logged first.
      const message = noImageMessage(name, node.os, node.region, release);
      void pulumi.log.error(message, parent);
      throw new pulumi.RunError(message);
    });
  const group = securityGroup(args, cloud, provider);
  // One per node, not per region: the instance's state keeps the name of the key pair it was
  // launched with (keyName is ignored after creation), and Pulumi creates a replacement from
  // those inputs too. A shared key pair would delete every running node's own, and a later
  // replacement would name a key pair AWS no longer has.
  const keyPair = new Lean(
    LEAN.awsKeyPair,
    `${name}-keypair`,
    { publicKey: args.operatorKey, tags } satisfies aws.ec2.KeyPairArgs,
    ["keyName"],
    opts,
  );
  const instance = new Lean(
    LEAN.awsInstance,
    name,
    {
      ami,
      instanceType: node.instanceType ?? "",
      keyName: keyPair.keyName,
      vpcSecurityGroupIds: [group.id],
      metadataOptions: {
        httpTokens: "required",
        httpEndpoint: "enabled",
        httpPutResponseHopLimit: 1,
      },
      rootBlockDevice: {
        volumeSize: node.aws?.rootVolumeGb ?? 30,
        volumeType: "gp3",
        encrypted: true,
        deleteOnTermination: true,
      },
      userData: args.identity
        ? pulumi.secret(
            args.identity.apply((identity) => userDataFor("aws", node.os, identity, install(args))),
          )
        : "",
      userDataReplaceOnChange: false,
      tags,
    } satisfies aws.ec2.InstanceArgs,
    [],
    // A newer image must not replace a running server (the push keeps it current), nor a new
    // operator key: it replaces the key pair, whose new name would replace the instance.
    { ...opts, ignoreChanges: ["ami", "keyName"], protect: holdsState(node) },
  );
  const eip = new Lean(
    LEAN.awsEip,
    `${name}-eip`,
    { instance: instance.id, domain: "vpc", tags } satisfies aws.ec2.EipArgs,
    ["publicIp"],
    opts,
  );
  return {
    machine: instance.id,
    publicIpv4: eip.publicIp.apply((ip) => ip || null),
    publicIpv6: pulumi.output(null),
    resources: [instance, eip, group, keyPair],
  };
}

/**
 * The security group for the node's public rules, in its region. A node moves between groups
 * in place (vpcSecurityGroupIds updates a VPC instance), the new group complete before it.
 */
function securityGroup(args: HostArgs, cloud: CloudContext, provider: aws.Provider) {
  const where = { provider: "aws", region: args.node.region };
  return sharedFirewall(args, cloud, where, ({ name, rules, summary }, parent) => {
    return new aws.ec2.SecurityGroup(
      name,
      {
        description: `clawd-mesh ${args.mesh}: public ${summary}`,
        ingress: rules.map((rule) => ({
          protocol: rule.protocol,
          fromPort: rule.port,
          toPort: rule.port,
          cidrBlocks: [rule.cidr ?? "0.0.0.0/0"],
          ...(rule.cidr ? {} : { ipv6CidrBlocks: ["::/0"] }),
          description: rule.note,
        })),
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            ipv6CidrBlocks: ["::/0"],
          },
        ],
        tags: { Name: name, "clawd-mesh:mesh": args.mesh },
      },
      { parent, provider },
    );
  });
}
