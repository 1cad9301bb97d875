// A lean resource reaches the engine as its provider's class would send it: the same request,
// field by field (type, inputs, plugin version and download URL, secret outputs,
// replaceOnChanges, aliases, ignoreChanges, protect, dependencies), and reads back the
// properties it declares.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as cloudflare from "@pulumi/cloudflare";
import * as random from "@pulumi/random";
import * as vultr from "@ediri/vultr";
import { local } from "@pulumi/command";
import { Lean, LEAN, type LeanKind } from "../../components/lean";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): { registerResource(req: Request, cb: unknown): unknown };
  waitForRPCs(): Promise<void>;
};
interface Request {
  toObject(): Record<string, unknown>;
}

const requests = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: { ...args.inputs, mainIp: "198.51.100.7", publicIp: "198.51.100.8" },
      }),
      call: (args) => args.inputs,
    },
    "clawd-mesh",
    "lean",
    false,
  );
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const r = req.toObject();
    requests.set(String(r.name), r);
    return register(req, cb);
  };
});

/** The request without what names this declaration: its name and its line in the code. */
function request(name: string): Record<string, unknown> {
  const r = requests.get(name);
  if (!r) throw new Error(`no request for ${name}`);
  const rest = { ...r };
  for (const key of ["name", "sourceposition", "stacktrace"]) delete rest[key];
  return rest;
}

type Declare = (name: string, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;
/** A provider's generated class, as its constructor is called. */
type Class = new (
  name: string,
  args: never,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

const secretData = pulumi.secret("#cloud-config\n");
const CASES: [string, LeanKind, Class, Record<string, unknown>][] = [
  [
    "local Command",
    LEAN.localCommand,
    local.Command,
    { create: "push", environment: { A: "1" }, stdin: secretData, triggers: ["x"] },
  ],
  ["random bytes", LEAN.randomBytes, random.RandomBytes, { length: 32 }],
  [
    "AWS instance",
    LEAN.awsInstance,
    aws.ec2.Instance,
    { ami: "ami-1", instanceType: "t3.small", userData: secretData, tags: { Name: "a" } },
  ],
  ["AWS Elastic IP", LEAN.awsEip, aws.ec2.Eip, { instance: "i-1", domain: "vpc" }],
  [
    "AWS key pair",
    LEAN.awsKeyPair,
    aws.ec2.KeyPair,
    { publicKey: "ssh-ed25519 AAAA operator", tags: { Name: "a" } },
  ],
  [
    "Vultr instance",
    LEAN.vultrInstance,
    vultr.Instance,
    { plan: "vc2-1c-1gb", region: "ams", osId: 2136, userData: secretData },
  ],
  [
    "Cloudflare record",
    LEAN.dnsRecord,
    cloudflare.DnsRecord,
    { zoneId: "z", name: "a.example.com", type: "A", content: "198.51.100.7", ttl: 1 },
  ],
];

test.each(CASES)("%s: the same request as its class's", async (label, kind, Class, inputs) => {
  const id = label.replace(/\W+/g, "-");
  const before = new random.RandomPassword(`${id}-before`, { length: 8 });
  const opts = (): pulumi.CustomResourceOptions => ({
    dependsOn: [before],
    ignoreChanges: ["tags"],
    replaceOnChanges: ["triggers[*]"],
    protect: true,
  });
  // Both from a named function: the SDK reads a declaration's position from a frame that names
  // its function (resource.js framePositionRegExp), and this test's own callback has none.
  const declare: Declare = (name, o) => new Class(name, inputs as never, o);
  const declareLean: Declare = (name, o) => new Lean(kind, name, inputs, [], o);
  declare(`${id}-class`, opts());
  declareLean(`${id}-lean`, opts());
  await settings.waitForRPCs();
  const [asClass, asLean] = [request(`${id}-class`), request(`${id}-lean`)];
  expect(asLean).toEqual(asClass);
  // Not vacuous: the package's version, and what the class itself adds, are in both.
  expect(asLean.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(asLean.type).toBe(kind.type);
  // Its source position is where it is declared, as the class's is: not components/lean.ts.
  const file = (r: Record<string, unknown> | undefined) =>
    (r?.sourceposition as { uri?: string } | undefined)?.uri;
  expect(file(requests.get(`${id}-lean`))).toBe(file(requests.get(`${id}-class`)));
  expect(file(requests.get(`${id}-lean`))).toMatch(/lean\.test\.ts$/);
});

test("a lean resource reads back what it declares, and has no other properties", async () => {
  const instance = new Lean(
    LEAN.vultrInstance,
    "read-back",
    { plan: "p", region: "ams" },
    ["mainIp"],
    {},
  );
  const ip = await new Promise((resolve) => instance.mainIp.apply(resolve));
  expect(ip).toBe("198.51.100.7");
  expect("defaultPassword" in instance).toBe(false);
  expect("defaultPassword" in new vultr.Instance("as-class", { plan: "p", region: "ams" })).toBe(
    true,
  );
});
