// Vultr (@ediri/vultr 2.21.0, bridging terraform-provider-vultr v2.21.0 at e300edfa), acting
// on the lab. Replacement fields are the upstream schema's ForceNew ones
// (vultr/resource_vultr_instance.go, resource_vultr_firewall_rule.go: a rule has no update).
// A firewall group drops what no rule accepts (docs.vultr.com, firewall rules), so an
// instance in a group is reachable only on its rules' ports; one in no group is open. The
// images log in as root with the registered keys (the API's default user scheme).
import { randomBytes } from "node:crypto";
import type { Package } from "../provider";
import { reveal, secret, UNKNOWN, type Value } from "../values";
import { bridgedDiff, previewOutputs } from "./bridged";
import type { Cloud, EdgeRule } from "./cloud";

const INSTANCE = "vultr:index/instance:Instance";
const GROUP = "vultr:index/firewallGroup:FirewallGroup";
const RULE = "vultr:index/firewallRule:FirewallRule";
const KEY = "vultr:index/sSHKey:SSHKey";

/** resource_vultr_instance.go: ForceNew fields (L30-199). */
const INSTANCE_FORCE_NEW = [
  "region",
  "osId",
  "imageId",
  "appId",
  "snapshotId",
  "scriptId",
  "userData",
  "sshKeyIds",
  "hostname",
  "reservedIpId",
  "disablePublicIpv4",
  "appVariables",
];

/** The operating systems the lab's Vultr offers, by the API's name and id. */
const OS = [
  { id: 2136, name: "Debian 12 x64 (bookworm)", family: "debian" },
  { id: 2284, name: "Ubuntu 24.04 LTS x64", family: "ubuntu" },
  { id: 1743, name: "Ubuntu 22.04 LTS x64", family: "ubuntu" },
  { id: 2076, name: "Alpine Linux x64", family: "alpine" },
] as const;

interface InstanceRecord {
  readonly hostId: string;
  readonly firewallGroupId: string;
}
interface RuleRecord {
  readonly groupId: string;
  readonly protocol: string;
  readonly ipType: string;
  readonly subnet: string;
  readonly subnetSize: number;
  readonly port: string;
}

const str = (v: Value | undefined) => String(reveal(v ?? "") ?? "");

export function vultrPackage(cloud: Cloud): Package {
  const api = cloud.api;

  /** A group's rules as the edge in front of each of its instances (IPv4: the lab has no v6). */
  const edgeOf = (groupId: string): EdgeRule[] =>
    api
      .all<RuleRecord>("vultr.rule")
      .filter(([, r]) => r.groupId === groupId && r.ipType === "v4")
      .map(([, r]) => {
        const [from = "", to = from] = r.port.split(":");
        return {
          protocol: r.protocol as EdgeRule["protocol"],
          ...(r.port && { ports: [Number(from), Number(to)] as const }),
          cidr: `${r.subnet}/${r.subnetSize}`,
        };
      });
  const applyEdges = async (groupId: string) => {
    for (const [, inst] of api.all<InstanceRecord>("vultr.instance")) {
      if (inst.firewallGroupId === groupId) await cloud.setEdge(inst.hostId, edgeOf(groupId));
    }
  };
  const edgeFor = (groupId: string) => (groupId ? edgeOf(groupId) : undefined);

  return {
    functions: {
      "vultr:index/getOs:getOs": async (args) => {
        const filters = (args.filters ?? []) as { name: string; values: string[] }[];
        const wanted = filters.find((f) => f.name === "name")?.values ?? [];
        const os = OS.find((o) => wanted.includes(o.name));
        if (!os) throw new Error(`no os matches ${JSON.stringify(filters)}`);
        return { id: String(os.id), name: os.name, family: os.family, arch: "x64", filters };
      },
    },
    resources: {
      [KEY]: {
        // The bridge auto-names `name` (provider/resources.go SetAutonaming).
        check: (r) => ({ ...r.news, name: r.news.name ?? r.olds?.name ?? autoName(r.name) }),
        diff: (r) => bridgedDiff(r.olds, r.news, []),
        create: async (r) => {
          const id = r.preview ? "" : api.newId("key-");
          if (!r.preview) api.put("vultr.key", id, { sshKey: str(r.inputs.sshKey) });
          return { id, outputs: previewOutputs({ ...r.inputs, dateCreated: now(r.preview) }, []) };
        },
        // An account key changes in place; instances keep the key they were installed with.
        update: async (r) => {
          if (!r.preview) api.put("vultr.key", r.id, { sshKey: str(r.news.sshKey) });
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => api.remove("vultr.key", r.id),
      },
      [GROUP]: {
        diff: (r) => bridgedDiff(r.olds, r.news, []),
        create: async (r) => {
          const id = r.preview ? "" : api.newId("fwg-");
          if (!r.preview) api.put("vultr.group", id, { description: str(r.inputs.description) });
          return {
            id,
            outputs: { ...r.inputs, ruleCount: 0, instanceCount: 0, maxRuleCount: 50 },
          };
        },
        update: async (r) => ({ ...r.oldOutputs, ...r.news }),
        delete: async (r) => api.remove("vultr.group", r.id),
      },
      [RULE]: {
        // No UpdateContext: every field replaces (resource_vultr_firewall_rule.go L18-24).
        diff: (r) => bridgedDiff(r.olds, r.news, Object.keys({ ...r.olds, ...r.news })),
        create: async (r) => {
          if (r.preview) return { id: "", outputs: r.inputs };
          const protocol = str(r.inputs.protocol);
          if (protocol !== protocol.toLowerCase()) {
            throw new Error(`protocol "${protocol}" must be lowercase`);
          }
          const id = String(api.newId(""));
          const groupId = str(r.inputs.firewallGroupId);
          api.put("vultr.rule", id, {
            groupId,
            protocol,
            ipType: str(r.inputs.ipType),
            subnet: str(r.inputs.subnet),
            subnetSize: Number(reveal(r.inputs.subnetSize ?? 0)),
            port: str(r.inputs.port),
          });
          await applyEdges(groupId);
          return { id, outputs: r.inputs };
        },
        update: async (r) => ({ ...r.oldOutputs, ...r.news }),
        delete: async (r) => {
          const rule = api.get<RuleRecord>("vultr.rule", r.id);
          api.remove("vultr.rule", r.id);
          if (rule) await applyEdges(rule.groupId);
        },
      },
      [INSTANCE]: {
        diff: (r) => bridgedDiff(r.olds, r.news, INSTANCE_FORCE_NEW),
        create: async (r) => {
          const computed = ["mainIp", "v6MainIp", "defaultPassword", "status", "powerStatus"];
          if (r.preview) return { id: "", outputs: previewOutputs(r.inputs, computed) };
          const os = OS.find((o) => o.id === Number(reveal(r.inputs.osId ?? 0)));
          if (!os) throw new Error(`os_id ${str(r.inputs.osId)} is not an image this Vultr has`);
          const keyIds = (reveal(r.inputs.sshKeyIds ?? []) as string[]) ?? [];
          const keys = keyIds.map((k) => {
            const key = api.get<{ sshKey: string }>("vultr.key", k);
            if (!key) throw new Error(`ssh key ${k} not found`);
            return key.sshKey;
          });
          const firewallGroupId = str(r.inputs.firewallGroupId);
          const edge = edgeFor(firewallGroupId);
          const host = await cloud.boot({
            name: str(r.inputs.hostname) || r.name,
            image: { loginUser: "root", description: os.name, os: os.family },
            authorizedKeys: keys,
            userData: str(r.inputs.userData),
            ...(edge && { edge }),
          });
          const id = api.newId("inst-");
          api.put("vultr.instance", id, { hostId: host.hostId, firewallGroupId });
          return {
            id,
            outputs: {
              ...r.inputs,
              mainIp: host.ipv4,
              // The lab's internet has no IPv6: a documentation address stands in.
              v6MainIp: r.inputs.enableIpv6 ? `2001:db8::${parseInt(id.slice(-4), 16)}` : "",
              defaultPassword: secret(randomBytes(9).toString("base64")),
              status: "active",
              powerStatus: "running",
              serverStatus: "ok",
              os: os.name,
            },
          };
        },
        // One PATCH: plan (a resize), firewall group, label, tags… (resourceVultrInstanceUpdate).
        update: async (r) => {
          if (r.preview) return { ...r.oldOutputs, ...r.news };
          const inst = api.get<InstanceRecord>("vultr.instance", r.id);
          if (!inst) throw new Error(`instance ${r.id} not found`);
          const firewallGroupId = str(r.news.firewallGroupId);
          api.put("vultr.instance", r.id, { ...inst, firewallGroupId });
          await cloud.setEdge(inst.hostId, edgeFor(firewallGroupId));
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => {
          const inst = api.get<InstanceRecord>("vultr.instance", r.id);
          if (inst) await cloud.destroy(inst.hostId);
          api.remove("vultr.instance", r.id);
        },
        read: async (r) =>
          api.get("vultr.instance", r.id) ? { id: r.id, outputs: r.outputs } : undefined,
      },
    },
  };
}

export function autoName(name: string): string {
  return `${name}-${randomBytes(4).toString("hex").slice(0, 7)}`;
}

function now(preview: boolean): Value {
  return preview ? UNKNOWN : new Date().toISOString();
}
