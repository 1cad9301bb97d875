// An EC2 instance from an official image looked up by owner and name, behind a security group
// that mirrors the node's public ports, with an Elastic IP and IMDSv2 required.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Os } from "../../core/fleet/catalog";
import { userDataFor } from "../../core/render/userData";
import { publicRules, type Host, type HostArgs } from "./types";

/** Publishers' account ids and image names (x86_64). */
export const AMIS: Record<Os, { owner: string; name: string }> = {
  nixos: { owner: "427812963091", name: "nixos/24.11*-x86_64-linux" },
  ubuntu: {
    owner: "099720109477",
    name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
  },
  debian: { owner: "136693071363", name: "debian-12-amd64-*" },
  alpine: { owner: "538276064493", name: "alpine-3.*-x86_64-bios-cloudinit-*" },
};

export function awsHost(args: HostArgs, provider: aws.Provider): Host {
  const { name, node, parent } = args;
  const opts = { parent, provider };
  const tags = { Name: name, "clawd-mesh:mesh": args.mesh };
  const image = AMIS[node.os];
  const ami = aws.ec2.getAmiOutput(
    {
      owners: [image.owner],
      mostRecent: true,
      filters: [
        { name: "name", values: [image.name] },
        { name: "architecture", values: ["x86_64"] },
      ],
    },
    { parent, provider },
  );
  const group = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      description: `clawd-mesh ${args.mesh}/${name}: public ports by role`,
      ingress: publicRules(args.firewall).map((rule) => ({
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
      tags,
    },
    opts,
  );
  const keyPair = new aws.ec2.KeyPair(
    `${name}-keypair`,
    { publicKey: args.operatorKey, tags },
    opts,
  );
  const instance = new aws.ec2.Instance(
    name,
    {
      ami: ami.id,
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
        ? pulumi.secret(args.identity.apply((identity) => userDataFor("aws", node.os, identity)))
        : "",
      userDataReplaceOnChange: false,
      tags,
    },
    // A newer image must not replace a running server: the push keeps it current.
    { ...opts, ignoreChanges: ["ami"] },
  );
  const eip = new aws.ec2.Eip(`${name}-eip`, { instance: instance.id, domain: "vpc", tags }, opts);
  return {
    publicIpv4: eip.publicIp.apply((ip) => ip || null),
    publicIpv6: pulumi.output(null),
    resources: [instance, eip, group, keyPair],
  };
}
