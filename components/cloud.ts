// Provider-side resources that many nodes share, made on first use so a stack without Vultr
// or AWS nodes declares none of them.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as cloudflare from "@pulumi/cloudflare";
import * as vultr from "@ediri/vultr";

export class CloudContext {
  private readonly awsProviders = new Map<string, aws.Provider>();
  private readonly zones = new Map<string, pulumi.Output<string>>();
  private vultrKey?: vultr.SSHKey;
  private readonly made = new Map<string, unknown>();

  constructor(
    private readonly mesh: string,
    private readonly parent: pulumi.Resource,
    readonly operatorKey: string,
  ) {}

  /** One AWS provider per region: nodes of one stack may live in several. */
  awsProvider(region: string): aws.Provider {
    let p = this.awsProviders.get(region);
    if (!p) {
      p = new aws.Provider(`${this.mesh}-aws-${region}`, { region }, { parent: this.parent });
      this.awsProviders.set(region, p);
    }
    return p;
  }

  /** The operator's key in Vultr, for first-boot root access to new instances. */
  vultrSshKey(): vultr.SSHKey {
    this.vultrKey ??= new vultr.SSHKey(
      `${this.mesh}-operator`,
      { name: `clawd-mesh ${this.mesh} operator`, sshKey: this.operatorKey },
      { parent: this.parent },
    );
    return this.vultrKey;
  }

  /**
   * What `make` declares, once per `key` for the whole stack: nodes whose public ports are the
   * same share one provider firewall. Every resource and each of its properties costs the
   * program memory at the size of a fleet.
   */
  shared<T>(key: string, make: (parent: pulumi.Resource) => T): T {
    if (!this.made.has(key)) this.made.set(key, make(this.parent));
    return this.made.get(key) as T;
  }

  /** A Cloudflare zone's id, looked up by name. */
  zoneId(zone: string): pulumi.Output<string> {
    let id = this.zones.get(zone);
    if (!id) {
      id = cloudflare.getZoneOutput({ filter: { name: zone } }, { parent: this.parent }).zoneId;
      this.zones.set(zone, id);
    }
    return id;
  }
}
