// Cloudflare (@pulumi/cloudflare 6.x, bridging terraform-provider-cloudflare v5): a DNS record
// is replaced when its zone or type changes and updated in place otherwise, keeping its id
// (internal/services/dns_record/schema.go: zone_id and type RequiresReplace). Records are
// published where the lab can read them.
import { createHash } from "node:crypto";
import type { Package } from "../provider";
import { reveal, type Value } from "../values";
import { bridgedDiff, previewOutputs } from "./bridged";
import type { Cloud, DnsRecord } from "./cloud";

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";

const str = (v: Value | undefined) => String(reveal(v ?? "") ?? "");
const zoneIdOf = (name: string) => createHash("sha256").update(name).digest("hex").slice(0, 32);

export function cloudflarePackage(cloud: Cloud): Package {
  const api = cloud.api;
  const publish = () =>
    cloud.publishRecords(api.all<DnsRecord>("cloudflare.record").map(([, r]) => r));
  const recordOf = (inputs: Record<string, Value>): DnsRecord => {
    const zoneId = str(inputs.zoneId);
    const zone = api.get<{ name: string }>("cloudflare.zone", zoneId)?.name;
    if (!zone) throw new Error(`zone ${zoneId} not found`);
    return { zone, name: str(inputs.name), type: str(inputs.type), content: str(inputs.content) };
  };
  return {
    functions: {
      "cloudflare:index/getZone:getZone": async (args) => {
        const name = str((reveal(args.filter ?? {}) as Record<string, Value>).name);
        const id = zoneIdOf(name);
        api.put("cloudflare.zone", id, { name });
        return { ...args, id, zoneId: id, name, status: "active" };
      },
    },
    resources: {
      [RECORD]: {
        diff: (r) => bridgedDiff(r.olds, r.news, ["zoneId", "type"]),
        create: async (r) => {
          if (r.preview)
            return { id: "", outputs: previewOutputs(r.inputs, ["createdOn", "proxiable"]) };
          const id = api.newId("");
          api.put("cloudflare.record", id, recordOf(r.inputs));
          await publish();
          return {
            id,
            outputs: { ...r.inputs, proxiable: true, createdOn: new Date().toISOString() },
          };
        },
        update: async (r) => {
          if (!r.preview) {
            api.put("cloudflare.record", r.id, recordOf(r.news));
            await publish();
          }
          return { ...r.oldOutputs, ...r.news };
        },
        delete: async (r) => {
          api.remove("cloudflare.record", r.id);
          await publish();
        },
      },
    },
  };
}
