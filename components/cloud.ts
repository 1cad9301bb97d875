// Provider-side resources that many nodes share, made on first use so a stack without Vultr
// or AWS nodes declares none of them.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as cloudflare from "@pulumi/cloudflare";
import * as vultr from "@ediri/vultr";

export class CloudContext {
  private readonly made = new Map<string, unknown>();

  constructor(
    private readonly mesh: string,
    private readonly parent: pulumi.Resource,
    readonly operatorKey: string,
  ) {}

  /**
   * What `make` declares, once per `key` for the whole stack: a provider per region, the
   * operator's key, a zone's lookup, the provider firewall of nodes whose public ports are the
   * same. Every resource and each of its properties costs the program memory at the size of a
   * fleet.
   */
  shared<T>(key: string, make: (parent: pulumi.Resource) => T): T {
    if (!this.made.has(key)) this.made.set(key, make(this.parent));
    return this.made.get(key) as T;
  }

  /** One AWS provider per region: nodes of one stack may live in several. */
  awsProvider(region: string): aws.Provider {
    return this.shared(
      `aws provider ${region}`,
      (parent) => new aws.Provider(`${this.mesh}-aws-${region}`, { region }, { parent }),
    );
  }

  /** The operator's key in Vultr, for first-boot root access to new instances. */
  vultrSshKey(): vultr.SSHKey {
    return this.shared(
      "vultr operator key",
      (parent) =>
        new vultr.SSHKey(
          `${this.mesh}-operator`,
          { name: `clawd-mesh ${this.mesh} operator`, sshKey: this.operatorKey },
          { parent },
        ),
    );
  }

  /** A Cloudflare zone's id, looked up by name. */
  zoneId(zone: string): pulumi.Output<string> {
    return this.shared(
      `cloudflare zone ${zone}`,
      (parent) => cloudflare.getZoneOutput({ filter: { name: zone } }, { parent }).zoneId,
    );
  }
}
