// The drift check and the program agree, under Pulumi's mocks: the digest drift expects of each
// node — rendered from the stack file and the stack's `nodes` output alone, as
// `npm run drift` does — is the bundle digest the program puts in that node's push triggers,
// and the URN the report names is that push's.
import { expectedDigests } from "../../core/drift/expected";
import { pushUrn } from "../../core/drift/report";
import { loadStackFleet } from "../../core/fleet/load";
import { validateFleet } from "../../core/fleet/validate";
import { checkDrift, DRIFT_READS } from "../../operator/drift";
import { unwrap, valueOf } from "../helpers/mocks";
import { byType, runStack, T } from "../helpers/program";
import { PROJECT_DIR } from "../helpers/stacks";

test.each(["prod", "clawd", "ollama-home"])(
  "%s: drift's digests and URNs are the pushes' own",
  async (stack) => {
    const run = await runStack(stack);
    const fleet = validateFleet(loadStackFleet(PROJECT_DIR, stack));
    const expected = expectedDigests(fleet, await valueOf(run.result.nodes));
    const pushes = byType(run, T.localCommand).filter((c) => c.name.endsWith("-push"));
    expect(pushes.map((p) => p.name.replace(/-push$/, "")).sort()).toEqual(
      fleet.nodes.map((n) => n.name).sort(),
    );
    for (const push of pushes) {
      const node = push.name.replace(/-push$/, "");
      expect([node, (unwrap(push.inputs.triggers) as string[])[0]]).toEqual([
        node,
        expected.get(node),
      ]);
      // The mocks run every stack as "test" of project clawd-mesh, and qualify a type by its
      // parent's alone (the engine, as Pulumi, by the whole chain: tests/drift/compare.test.ts).
      const [, , type, name] = push.urn.split("::");
      expect(pushUrn("test", "clawd-mesh", node).endsWith(`${type}::${name}`)).toBe(true);
    }
  },
  60_000,
);

test("a node the stack's outputs do not have yet is named, with what to do", () => {
  const fleet = validateFleet(loadStackFleet(PROJECT_DIR, "ollama-home"));
  expect(() => expectedDigests(fleet, {})).toThrow(
    "the stack's outputs have no node ai: run `pulumi up` once so it exists before checking it for drift",
  );
});

describe("a node ssh failed to reach is read again before it is called unreachable", () => {
  const fleet = validateFleet(loadStackFleet(PROJECT_DIR, "ollama-home"));
  const deployed = { ai: { wgPublicKey: "k".repeat(43) + "=", publicIpv4: null } };
  const closed = {
    status: 255,
    stdout: "",
    stderr: "kex_exchange_identification: Connection closed by remote host\n",
  };
  const refused = { status: 2, stdout: "", stderr: "clawd-mesh-receive: unknown command state\n" };

  test("a connection closed once, then an answer: judged on the answer", async () => {
    const answers = [closed, refused];
    let reads = 0;
    const [result] = await checkDrift(fleet, deployed, async () => answers[reads++]!, 0);
    expect(reads).toBe(2);
    expect(result?.kind).toBe("drifted");
  });

  test(`ssh failing every time: ${DRIFT_READS} reads, then unreachable with ssh's words`, async () => {
    let reads = 0;
    const [result] = await checkDrift(fleet, deployed, async () => (reads++, closed), 0);
    expect(reads).toBe(DRIFT_READS);
    expect(result).toEqual({
      node: "ai",
      kind: "unreachable",
      reason:
        "ssh could not reach it (exit 255): kex_exchange_identification: Connection closed by remote host",
    });
  });

  test("a timeout is not read again: it waited long enough", async () => {
    let reads = 0;
    const timedOut = { status: null, stdout: "", stderr: "", timedOut: true };
    const [result] = await checkDrift(fleet, deployed, async () => (reads++, timedOut), 0);
    expect([reads, result?.kind]).toEqual([1, "unreachable"]);
  });
});
