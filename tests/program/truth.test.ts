// One truth: what the program hands each push is what `npm run synth` writes for the node,
// once synth's placeholders (public keys, cloud addresses) are replaced by the real ones. The
// archive is opened with the real tar, and the key inside it checked with the real wg.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { placeholderDeployment } from "../../core/plan/deployment";
import { loadBundle } from "../../core/delivery/bundleStore";
import { parsePushPlan, PUSH_PLAN_VARIABLE, type PushSecrets } from "../../core/delivery/plan";
import { pushArchive } from "../../core/render/pushArchive";
import { unwrap, valueOf } from "../helpers/mocks";
import { byType, runStack, T } from "../helpers/program";
import { requireTools, runOk, tempDir } from "../helpers/run";
import { stackSynthesis, type StackName } from "../helpers/stacks";

requireTools("tar", "wg");
const tmp = tempDir("truth");
afterAll(() => tmp.remove());

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe.each(["prod", "clawd", "clavitor", "openclaw", "ollama-home"] as StackName[])(
  "stack %s",
  (stack) => {
    test("each push carries synth's files for its node, with the real keys and addresses", async () => {
      const run = await runStack(stack);
      const real = await valueOf(run.result.nodes);
      const synth = stackSynthesis(stack);
      const placeholders = placeholderDeployment(synth.fleet);
      const substitute = (text: string) => {
        let out = text;
        for (const node of synth.fleet.nodes) {
          const facts = real[node.name]!;
          out = out.split(placeholders.publicKeyOf(node.name)).join(facts.wgPublicKey);
          if (node.address.kind === "cloud") {
            const ip = placeholders.cloudIpOf(node.name).replace(/\./g, "\\.");
            out = out.replace(new RegExp(`\\b${ip}(?!\\d)`, "g"), facts.publicIpv4 ?? "");
          }
        }
        return out;
      };
      const pushes = byType(run, T.localCommand).filter((c) => c.name.endsWith("-push"));
      expect(pushes).toHaveLength(synth.plan.nodes.length);
      for (const push of pushes) {
        const name = push.name.replace(/-push$/, "");
        const dir = join(tmp.path, stack, name);
        mkdirSync(dir, { recursive: true });
        // What cli/push.ts sends: the stored bundle the plan names, and the secret files on stdin.
        const plan = parsePushPlan(push.inputs.environment[PUSH_PLAN_VARIABLE]);
        const { files } = JSON.parse(unwrap(push.inputs.stdin)) as PushSecrets;
        const archive = pushArchive(loadBundle(plan.bundle), files);
        writeFileSync(join(dir, "archive.tar"), Buffer.from(archive, "base64"));
        mkdirSync(join(dir, "x"));
        runOk("tar", ["-x", "-f", join(dir, "archive.tar"), "-C", join(dir, "x")]);
        const pushed = readTree(join(dir, "x", "bundle"));
        const expected = Object.fromEntries(
          [...synth.files]
            .filter(([path]) => path.startsWith(`nodes/${name}/`))
            .map(([path, content]) => [path.slice(`nodes/${name}/`.length), substitute(content)]),
        );
        expect(pushed).toEqual(expected);
        // The private key that travels with the bundle is the one the node is known by.
        const key = readFileSync(join(dir, "x", "secrets", "wg0.key"), "utf8");
        expect(runOk("wg", ["pubkey"], { input: key }).trim()).toBe(real[name]!.wgPublicKey);
        expect(statSync(join(dir, "x", "secrets", "wg0.key")).mode & 0o777).toBe(0o600);
      }
    });
  },
);
