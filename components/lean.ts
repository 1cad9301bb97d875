// Resources declared with the properties the program sets or reads, and no others.
//
// A provider's class declares every property of its schema, and the SDK makes an Output for
// each one (four promises and their handlers: runtime/rpc.js transferProperties), all held until
// the engine answers. At 254 nodes the AWS instance's 61, the Vultr instance's 43, the DNS
// record's 19 and the Command's 16 were most of the program's memory. The declared list never
// reaches the engine: it receives the type, the inputs and the options, and a property it
// returns that was not declared is skipped (runtime/rpc.js resolveProperties). A lean resource
// registers what the class would: the same type and inputs, and the class's own option
// defaults (its plugin version and download URL, secret outputs, replaceOnChanges, aliases).
// tests/program/lean.test.ts holds the two requests side by side.
import * as pulumi from "@pulumi/pulumi";

/** What a provider's class adds to every resource it declares, besides the inputs. */
export interface LeanKind {
  /** The class's type token. */
  readonly type: string;
  /** Its package's defaults (the plugin's version, where to download it), under the caller's. */
  readonly package: () => pulumi.CustomResourceOptions;
  /** What the class's constructor merges on top of the caller's options. */
  readonly own?: pulumi.CustomResourceOptions;
}

type Package = { resourceOptsDefaults(): pulumi.CustomResourceOptions };
/* eslint-disable @typescript-eslint/no-require-imports -- each package's own defaults, internal to it */
const command = () => (require("@pulumi/command/utilities") as Package).resourceOptsDefaults();
const aws = () => (require("@pulumi/aws/utilities") as Package).resourceOptsDefaults();
const vultr = () => (require("@ediri/vultr/utilities") as Package).resourceOptsDefaults();
const random = () => (require("@pulumi/random/utilities") as Package).resourceOptsDefaults();
const cloudflare = () =>
  (require("@pulumi/cloudflare/utilities") as Package).resourceOptsDefaults();
/* eslint-enable @typescript-eslint/no-require-imports */

/** The kinds declared lean, with what each one's constructor merges in. */
export const LEAN = {
  localCommand: {
    type: "command:local:Command",
    package: command,
    own: { replaceOnChanges: ["triggers[*]"] },
  },
  randomBytes: {
    type: "random:index/randomBytes:RandomBytes",
    package: random,
    own: { additionalSecretOutputs: ["base64", "hex"] },
  },
  awsInstance: { type: "aws:ec2/instance:Instance", package: aws },
  awsEip: { type: "aws:ec2/eip:Eip", package: aws },
  awsKeyPair: { type: "aws:ec2/keyPair:KeyPair", package: aws },
  vultrInstance: {
    type: "vultr:index/instance:Instance",
    package: vultr,
    own: { additionalSecretOutputs: ["defaultPassword"] },
  },
  dnsRecord: {
    type: "cloudflare:index/dnsRecord:DnsRecord",
    package: cloudflare,
    own: { aliases: [{ type: "cloudflare:index/record:Record" }] },
  },
} as const satisfies Record<string, LeanKind>;

/** A resource whose Outputs are `O` (and its id and urn). */
export type Lean<O extends string> = pulumi.CustomResource & {
  readonly id: pulumi.Output<string>;
} & { readonly [K in O]: pulumi.Output<string> };

type Inputs = Record<string, pulumi.Input<unknown> | undefined>;

class LeanResource extends pulumi.CustomResource {
  constructor(
    kind: LeanKind,
    name: string,
    inputs: Inputs,
    outputs: readonly string[],
    opts: pulumi.CustomResourceOptions,
  ) {
    super(kind.type, name, propsOf(inputs, outputs), optionsOf(kind, opts));
  }
}

/**
 * `new Lean(kind, name, inputs, outputs, opts)` declares `kind` with these inputs, reading back
 * only `outputs`. Called with `new` where the resource is declared, as a provider's class is:
 * the SDK takes the declaration's source position four frames up (resource.js stackTrace).
 */
export const Lean = LeanResource as unknown as new <O extends string>(
  kind: LeanKind,
  name: string,
  inputs: Inputs,
  outputs: readonly O[],
  opts: pulumi.CustomResourceOptions,
) => Lean<O>;

/** The inputs, and the outputs read back declared as the class declares them (undefined). */
function propsOf(inputs: Inputs, outputs: readonly string[]): Record<string, unknown> {
  const props: Record<string, unknown> = { ...inputs };
  for (const o of outputs) if (!(o in props)) props[o] = undefined;
  return props;
}

/** Options merged as the class merges them: its package's under the caller's, its own on top. */
function optionsOf(kind: LeanKind, opts: pulumi.CustomResourceOptions) {
  return pulumi.mergeOptions(pulumi.mergeOptions(kind.package(), opts), kind.own ?? {});
}
