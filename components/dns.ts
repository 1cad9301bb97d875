// Cloudflare records for a node's name(s). DNS only, never proxied: the vault nodes of seed 001
// terminate TLS themselves, and nothing else here is a web site Cloudflare should front.
import * as pulumi from "@pulumi/pulumi";
import type * as cloudflare from "@pulumi/cloudflare";
import { dnsRecordPart, zoneOf } from "../core/fleet/checkNodes";
import type { CloudContext } from "./cloud";
import { Lean, LEAN } from "./lean";

export interface DnsArgs {
  readonly hostnames: readonly string[];
  readonly zones: readonly string[];
  readonly ipv4: pulumi.Output<string | null>;
  /** Only for hosts created with IPv6 (Vultr): whether to publish AAAA is known up front. */
  readonly ipv6?: pulumi.Output<string | null>;
}

export function dnsRecords(
  name: string,
  args: DnsArgs,
  cloud: CloudContext,
  parent: pulumi.Resource,
): pulumi.CustomResource[] {
  return args.hostnames.flatMap((hostname) => {
    const zone = zoneOf(hostname, args.zones);
    const part = dnsRecordPart(hostname, args.zones);
    // validation prevents both
    if (!zone || !part) throw new Error(`${hostname} is in none of dns.zones`);
    // One name: "<node>-a". Several (k3s ingress names): "<node>-<part>-a", parts unique.
    const prefix = args.hostnames.length > 1 ? `${name}-${part}` : name;
    const record = (type: "A" | "AAAA", address: pulumi.Output<string | null>) =>
      new Lean(
        LEAN.dnsRecord,
        `${prefix}-${type.toLowerCase()}`,
        {
          zoneId: cloud.zoneId(zone),
          name: hostname,
          type,
          content: address.apply((ip) => ip ?? ""),
          ttl: 1,
          proxied: false,
          comment: "managed by clawd-mesh",
        } satisfies cloudflare.DnsRecordArgs,
        [],
        { parent },
      );
    return [record("A", args.ipv4), ...(args.ipv6 ? [record("AAAA", args.ipv6)] : [])];
  });
}
