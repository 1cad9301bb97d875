// AWS (@pulumi/aws 7.x, bridging terraform-provider-aws v6), acting on the lab. Replacement
// fields are the upstream schema's ForceNew ones (internal/service/ec2/ec2_instance.go,
// ec2_key_pair.go, ec2_eip.go, vpc_security_group.go). A security group lets in only what its
// ingress rules name (AWS: "By default, no inbound traffic is allowed"). Official images log
// in as root (NixOS), ubuntu, admin (Debian) or alpine; user data runs on first boot only.
import type { Package } from "../provider";
import { reveal, type Props, type Value } from "../values";
import { bridgedDiff, previewOutputs } from "./bridged";
import type { Cloud, EdgeRule } from "./cloud";
import { autoName } from "./vultr";

const INSTANCE = "aws:ec2/instance:Instance";
const GROUP = "aws:ec2/securityGroup:SecurityGroup";
const KEYPAIR = "aws:ec2/keyPair:KeyPair";
const EIP = "aws:ec2/eip:Eip";

/** The official images the lab's AWS carries: publisher account, name, and login user. */
export const IMAGES = [
  {
    owner: "427812963091",
    name: "nixos/24.11.719113.50ab793786d9-x86_64-linux",
    user: "root",
    os: "nixos",
  },
  {
    owner: "427812963091",
    name: "nixos/26.05.1042.0b6ae4ac2f1a-x86_64-linux",
    user: "root",
    os: "nixos",
  },
  {
    owner: "099720109477",
    name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101",
    user: "ubuntu",
    os: "ubuntu",
  },
  { owner: "136693071363", name: "debian-12-amd64-20261110-2231", user: "admin", os: "debian" },
  {
    owner: "538276064493",
    name: "alpine-3.22.2-x86_64-bios-cloudinit-r0",
    user: "alpine",
    os: "alpine",
  },
] as const;

const amiOf = (i: (typeof IMAGES)[number]) =>
  `ami-${Buffer.from(i.name).toString("hex").slice(-17)}`;

/** ec2_instance.go ForceNew fields; user_data only with user_data_replace_on_change. */
const INSTANCE_FORCE_NEW = [
  "ami",
  "keyName",
  "subnetId",
  "availabilityZone",
  "associatePublicIpAddress",
  "privateIp",
  "securityGroups",
  "rootBlockDevice.encrypted",
  "rootBlockDevice.kmsKeyId",
];

interface InstanceRecord {
  readonly hostId: string;
  readonly groups: readonly string[];
  readonly eip?: string;
}

const str = (v: Value | undefined) => String(reveal(v ?? "") ?? "");
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

export function awsPackage(cloud: Cloud): Package {
  const api = cloud.api;

  const images = (args: Props) => {
    const owners = (reveal(args.owners ?? []) as string[]) ?? [];
    const filters = (reveal(args.filters ?? []) as { name: string; values: string[] }[]) ?? [];
    const names = filters.find((f) => f.name === "name")?.values ?? ["*"];
    return IMAGES.filter(
      (i) =>
        (owners.length === 0 || owners.includes(i.owner)) &&
        names.some((n) => glob(n).test(i.name)),
    ).sort((a, b) => b.name.localeCompare(a.name));
  };

  const edgeOf = (groups: readonly string[]): EdgeRule[] =>
    groups.flatMap((g) => {
      const group = api.get<{ ingress: Props[] }>("aws.sg", g);
      return (group?.ingress ?? []).flatMap((rule): EdgeRule[] => {
        const protocol = str(rule.protocol);
        const cidrs = (rule.cidrBlocks ?? []) as string[];
        // "-1": every protocol and port.
        if (protocol === "-1") {
          return cidrs.flatMap((cidr) =>
            (["tcp", "udp", "icmp"] as const).map((p) => ({ protocol: p, cidr })),
          );
        }
        const ports = [Number(rule.fromPort), Number(rule.toPort)] as const;
        return cidrs.map((cidr) => ({ protocol: protocol as EdgeRule["protocol"], ports, cidr }));
      });
    });
  const applyEdges = async () => {
    for (const [, inst] of api.all<InstanceRecord>("aws.instance")) {
      await cloud.setEdge(inst.hostId, edgeOf(inst.groups));
    }
  };

  return {
    functions: {
      "aws:ec2/getAmi:getAmi": async (args) => {
        const found = images(args)[0];
        // The provider's own words when the filter matches nothing (ec2 FindImage).
        if (!found)
          throw new Error(
            "Your query returned no results. Please change your search criteria and try again.",
          );
        return {
          ...args,
          id: amiOf(found),
          imageId: amiOf(found),
          name: found.name,
          ownerId: found.owner,
        };
      },
      "aws:ec2/getAmiIds:getAmiIds": async (args) => ({
        ...args,
        id: "ami-ids",
        ids: images(args).map(amiOf),
      }),
    },
    resources: {
      [GROUP]: {
        check: (r) => ({
          description: "Managed by Pulumi",
          ...r.news,
          name: r.news.name ?? r.olds?.name ?? autoName(r.name),
        }),
        diff: (r) => bridgedDiff(r.olds, r.news, ["name", "namePrefix", "description", "vpcId"]),
        create: async (r) => {
          if (r.preview) return { id: "", outputs: previewOutputs(r.inputs, ["arn", "ownerId"]) };
          const id = api.newId("sg-");
          api.put("aws.sg", id, { ingress: reveal(r.inputs.ingress ?? []) });
          return {
            id,
            outputs: {
              ...r.inputs,
              arn: `arn:aws:ec2:::security-group/${id}`,
              ownerId: "000000000000",
            },
          };
        },
        // Rules change in place: revoke the old ones, authorize the new.
        update: async (r) => {
          if (!r.preview) {
            api.put("aws.sg", r.id, { ingress: reveal(r.news.ingress ?? []) });
            await applyEdges();
          }
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => api.remove("aws.sg", r.id),
      },
      [KEYPAIR]: {
        check: (r) => ({
          ...r.news,
          keyName: r.news.keyName ?? r.olds?.keyName ?? autoName(r.name),
        }),
        diff: (r) => bridgedDiff(r.olds, r.news, ["publicKey", "keyName", "keyNamePrefix"]),
        create: async (r) => {
          const name = str(r.inputs.keyName);
          if (!r.preview) api.put("aws.keypair", name, { publicKey: str(r.inputs.publicKey) });
          return {
            id: r.preview ? "" : name,
            outputs: previewOutputs({ ...r.inputs, keyPairId: `key-${name}` }, ["fingerprint"]),
          };
        },
        update: async (r) => ({ ...r.oldOutputs, ...r.news }),
        delete: async (r) => api.remove("aws.keypair", r.id),
      },
      [INSTANCE]: {
        diff: (r) =>
          bridgedDiff(r.olds, r.news, [
            ...INSTANCE_FORCE_NEW,
            ...(r.news.userDataReplaceOnChange === true ? ["userData"] : []),
          ]),
        create: async (r) => {
          const computed = ["publicIp", "publicDns", "privateIp", "arn", "instanceState"];
          if (r.preview) return { id: "", outputs: previewOutputs(r.inputs, computed) };
          const image = IMAGES.find((i) => amiOf(i) === str(r.inputs.ami));
          if (!image)
            throw new Error(
              `InvalidAMIID.NotFound: The image id '[${str(r.inputs.ami)}]' does not exist`,
            );
          const key = api.get<{ publicKey: string }>("aws.keypair", str(r.inputs.keyName));
          if (!key)
            throw new Error(
              `InvalidKeyPair.NotFound: The key pair '${str(r.inputs.keyName)}' does not exist`,
            );
          const groups = (reveal(r.inputs.vpcSecurityGroupIds ?? []) as string[]) ?? [];
          const host = await cloud.boot({
            name: r.name,
            image: { loginUser: image.user, description: image.name, os: image.os },
            authorizedKeys: [key.publicKey],
            userData: str(r.inputs.userData),
            edge: edgeOf(groups),
          });
          const id = api.newId("i-");
          api.put("aws.instance", id, { hostId: host.hostId, groups });
          return {
            id,
            outputs: {
              ...r.inputs,
              publicIp: host.ipv4,
              publicDns: `ec2-${host.ipv4.replace(/\./g, "-")}.compute.lab`,
              privateIp: "172.31.0.10",
              arn: `arn:aws:ec2:::instance/${id}`,
              instanceState: "running",
            },
          };
        },
        // Security groups change on the interface; instance type and user data stop and start
        // the instance, which does not run user data again (cloud-init: once per instance).
        update: async (r) => {
          if (r.preview) return { ...r.oldOutputs, ...r.news };
          const inst = api.get<InstanceRecord>("aws.instance", r.id);
          if (!inst) throw new Error(`InvalidInstanceID.NotFound: ${r.id}`);
          const groups = (reveal(r.news.vpcSecurityGroupIds ?? []) as string[]) ?? [];
          api.put("aws.instance", r.id, { ...inst, groups });
          await cloud.setEdge(inst.hostId, edgeOf(groups));
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => {
          const inst = api.get<InstanceRecord>("aws.instance", r.id);
          if (inst) await cloud.destroy(inst.hostId);
          api.remove("aws.instance", r.id);
        },
        read: async (r) =>
          api.get("aws.instance", r.id) ? { id: r.id, outputs: r.outputs } : undefined,
      },
      [EIP]: {
        diff: (r) =>
          bridgedDiff(r.olds, r.news, [
            "domain",
            "address",
            "publicIpv4Pool",
            "networkBorderGroup",
          ]),
        create: async (r) => {
          if (r.preview)
            return { id: "", outputs: previewOutputs(r.inputs, ["publicIp", "allocationId"]) };
          const ip = await cloud.allocateAddress();
          const id = api.newId("eipalloc-");
          api.put("aws.eip", id, { ip, instance: "" });
          await associate(id, str(r.inputs.instance));
          return {
            id,
            outputs: {
              ...r.inputs,
              publicIp: ip,
              allocationId: id,
              publicDns: `ec2-${ip.replace(/\./g, "-")}.compute.lab`,
            },
          };
        },
        // The instance is re-associated in place (resourceEIPUpdate).
        update: async (r) => {
          if (!r.preview) await associate(r.id, str(r.news.instance));
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => {
          await associate(r.id, "");
          const eip = api.get<{ ip: string }>("aws.eip", r.id);
          if (eip) await cloud.releaseAddress(eip.ip);
          api.remove("aws.eip", r.id);
        },
      },
    },
  };

  async function associate(eipId: string, instanceId: string): Promise<void> {
    const eip = api.get<{ ip: string; instance: string }>("aws.eip", eipId);
    if (!eip) throw new Error(`InvalidAllocationID.NotFound: ${eipId}`);
    const before = eip.instance ? api.get<InstanceRecord>("aws.instance", eip.instance) : undefined;
    if (before && eip.instance !== instanceId) await cloud.assignAddress(before.hostId, undefined);
    const after = instanceId ? api.get<InstanceRecord>("aws.instance", instanceId) : undefined;
    if (instanceId && !after) throw new Error(`InvalidInstanceID.NotFound: ${instanceId}`);
    if (after) await cloud.assignAddress(after.hostId, eip.ip);
    api.put("aws.eip", eipId, { ...eip, instance: instanceId });
  }
}
