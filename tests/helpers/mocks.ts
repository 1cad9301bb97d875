// Pulumi's mocks, with every registration recorded: type, name, parent, inputs and the exact
// dependencies the SDK declared (read from the register request, not inferred from timing).
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

export interface Registered {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly custom: boolean;
  readonly dependencies: readonly string[];
  /** The resource's ignoreChanges option: inputs a change of which the engine leaves alone. */
  readonly ignoreChanges: readonly string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: Record<string, any>;
}

let registered: Registered[] = [];
/** Every invoke the program made (data-source lookups), with its arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const calls: { token: string; inputs: Record<string, any> }[] = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const inputsByKey = new Map<string, Record<string, any>>();

type Callback = (err: unknown, response?: { getUrn(): string }) => void;
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
}
const proto = MockMonitor.prototype as unknown as {
  registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
};
const original = proto.registerResource;
proto.registerResource = function (this: unknown, req: RegisterRequest, callback: Callback) {
  return original.call(this, req, (err, response) => {
    if (!err && response) {
      registered.push({
        urn: response.getUrn(),
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent(),
        custom: req.getCustom(),
        dependencies: req.getDependenciesList(),
        ignoreChanges: req.getIgnorechangesList(),
        inputs: inputsByKey.get(`${req.getType()}::${req.getName()}`) ?? {},
      });
    }
    callback(err, response);
  });
};

/** What a mocked StackReference returns: outputs by stack name, and which are secret. */
export const stackOutputs = new Map<
  string,
  { outputs: Record<string, unknown>; secret: string[] }
>();

/** What the AWS image lookup finds, newest first; a test empties it (and puts it back). */
export const AMI_IDS = ["ami-0123456789abcdef0", "ami-0fedcba9876543210"];
export const amiIds: string[] = [...AMI_IDS];

/** Resource names whose random bytes come out different, as after a rotation. */
export const rotated = new Set<string>();
const digest = (text: string) =>
  createHash("sha256")
    .update(rotated.has(text) ? `${text} (rotated)` : text)
    .digest();

/** A stand-in public IPv4 from TEST-NET-2, different from synth's TEST-NET-3 placeholders. */
export const mockIpv4 = (name: string) => `198.51.100.${((digest(name)[0] ?? 0) % 250) + 2}`;

export const KUBECONFIG = [
  "apiVersion: v1",
  "clusters:",
  "- cluster:",
  "    certificate-authority-data: AAAA",
  "    server: https://127.0.0.1:6443",
  "  name: default",
  "",
].join("\n");

function stateFor(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "random:index/randomBytes:RandomBytes":
      return {
        ...inputs,
        base64: digest(name).toString("base64"),
        hex: digest(name).toString("hex"),
      };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: digest(name).toString("hex") };
    case "vultr:index/instance:Instance":
      return { ...inputs, mainIp: mockIpv4(name), v6MainIp: `2001:db8::${digest(name)[1]}` };
    case "aws:ec2/eip:Eip":
      return { ...inputs, publicIp: mockIpv4(name) };
    case "aws:ec2/keyPair:KeyPair":
      return { ...inputs, keyName: name };
    case "pulumi:pulumi:StackReference": {
      const ref = stackOutputs.get(String(inputs.name ?? name));
      return { ...inputs, outputs: ref?.outputs ?? {}, secretOutputNames: ref?.secret ?? [] };
    }
    case "command:remote:Command":
      return { ...inputs, stdout: commandOutput(name), stderr: "" };
    default:
      return inputs;
  }
}

/** What the node side prints: apply reports an armed rollback, k3s its kubeconfig. */
function commandOutput(name: string): string {
  if (name.endsWith("-kubeconfig")) return KUBECONFIG;
  if (name.endsWith("-push") || name.endsWith("-bootstrap")) {
    return "clawd-mesh: armed 1795430000-4242 1795430000\n";
  }
  return "";
}

export class FleetMocks implements pulumi.runtime.Mocks {
  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string;
    state: Record<string, unknown>;
  } {
    inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
    return { id: `${args.name}-id`, state: stateFor(args.type, args.name, args.inputs) };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    calls.push({ token: args.token, inputs: args.inputs });
    switch (args.token) {
      case "vultr:index/getOs:getOs":
        return { id: "2136", name: args.inputs.filters?.[0]?.values?.[0] };
      case "aws:ec2/getAmiIds:getAmiIds":
        return { ...args.inputs, ids: [...amiIds] };
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

/** A throwaway Ed25519 key standing for the operator's (a Pulumi secret in real stacks). */
export const OPERATOR_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n";

export interface Run<T> {
  readonly resources: readonly Registered[];
  readonly result: T;
}

/** Sets mocks and config, runs `program`, and waits until every registration has finished. */
export async function runWithMocks<T>(
  fleet: unknown,
  program: () => T,
  config: Record<string, string> = {},
  options: { operatorKey?: boolean } = {},
): Promise<Run<T>> {
  registered = [];
  calls.length = 0;
  inputsByKey.clear();
  await pulumi.runtime.setMocks(new FleetMocks(), "clawd-mesh", "test", false);
  pulumi.runtime.setAllConfig(
    {
      "clawd-mesh:fleet": JSON.stringify(fleet),
      ...(options.operatorKey !== false && { "clawd-mesh:sshPrivateKey": OPERATOR_PRIVATE_KEY }),
      ...config,
    },
    ["clawd-mesh:sshPrivateKey", "clawd-mesh:kumaPushUrls"],
  );
  let result: T;
  try {
    result = program();
  } finally {
    // Also on failure: whatever the program started registering has finished being recorded.
    await settings.waitForRPCs();
  }
  return { resources: [...registered], result };
}

/** What the monitor recorded in the latest run, also when the program threw. */
export function lastRegistered(): readonly Registered[] {
  return [...registered];
}

/** The value of an Output (or plain value), once resolved. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Mocks hand secret inputs over wrapped; this tells them apart and unwraps them. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function isSecretInput(v: any): boolean {
  return (
    typeof v === "object" && v !== null && v[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270"
  );
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function unwrap(v: any): any {
  return isSecretInput(v) ? v.value : v;
}
