// The program under Pulumi's mocks for the bench: a cloud that answers every resource after a
// fixed wait (zero for timing the program itself), and the size of every resource's inputs as
// the engine would receive them.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { defineStack } from "../components/stack";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

export interface Registration {
  readonly type: string;
  readonly name: string;
  /** JSON of the inputs as the mocks receive them (a secret wrapped, with its value). */
  readonly inputs: string;
}

const bytes = (name: string) => createHash("sha256").update(name).digest();
const ipv4 = (name: string) => `198.51.100.${((bytes(name)[0] ?? 0) % 250) + 2}`;

// What the node side prints: apply reports an armed rollback, k3s its kubeconfig.
const KUBECONFIG =
  "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";

function outputsOf(type: string, name: string, inputs: Record<string, unknown>) {
  switch (type) {
    case "random:index/randomBytes:RandomBytes":
      return {
        ...inputs,
        base64: bytes(name).toString("base64"),
        hex: bytes(name).toString("hex"),
      };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: bytes(name).toString("hex") };
    case "vultr:index/instance:Instance":
      return { ...inputs, mainIp: ipv4(name), v6MainIp: `2001:db8::${bytes(name)[1]}` };
    case "aws:ec2/eip:Eip":
      return { ...inputs, publicIp: ipv4(name) };
    case "aws:ec2/keyPair:KeyPair":
      return { ...inputs, keyName: name };
    case "command:remote:Command":
      return { ...inputs, stdout: name.endsWith("-kubeconfig") ? KUBECONFIG : "", stderr: "" };
    default:
      return inputs;
  }
}

class BenchMocks implements pulumi.runtime.Mocks {
  readonly registered: Registration[] = [];
  constructor(private readonly waitMs: number) {}

  async newResource(args: pulumi.runtime.MockResourceArgs) {
    this.registered.push({
      type: args.type,
      name: args.name,
      inputs: JSON.stringify(args.inputs),
    });
    if (this.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, this.waitMs));
    return { id: `${args.name}-id`, state: outputsOf(args.type, args.name, args.inputs) };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    switch (args.token) {
      case "vultr:index/getOs:getOs":
        return { id: "2136", name: args.inputs.filters?.[0]?.values?.[0] };
      case "aws:ec2/getAmiIds:getAmiIds":
        return { ...args.inputs, ids: ["ami-0123456789abcdef0"] };
      case "cloudflare:index/getZone:getZone":
        return {
          id: `zone-${args.inputs.filter?.name}`,
          zoneId: `zone-${args.inputs.filter?.name}`,
        };
      default:
        throw new Error(`Mock not implemented: ${args.token}`);
    }
  }
}

/** A stand-in for the operator's key (a Pulumi secret in real stacks). */
const OPERATOR_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n";

/** Runs the stack's program on `fleet` until every registration has been answered. */
export async function runProgram(fleet: unknown, waitMs = 0): Promise<Registration[]> {
  const mocks = new BenchMocks(waitMs);
  await pulumi.runtime.setMocks(mocks, "clawd-mesh", "bench", false);
  pulumi.runtime.setAllConfig(
    { "clawd-mesh:fleet": JSON.stringify(fleet), "clawd-mesh:sshPrivateKey": OPERATOR_PRIVATE_KEY },
    ["clawd-mesh:sshPrivateKey"],
  );
  defineStack(new pulumi.Config("clawd-mesh"));
  await settings.waitForRPCs();
  return mocks.registered;
}
