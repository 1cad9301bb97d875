// The drift check and the program agree, under Pulumi's mocks: the digest drift expects of each
// node — rendered from the stack file and the stack's `nodes` output alone, as
// `npm run drift` does — is the bundle digest the program puts in that node's push triggers,
// and the URN the report names is that push's.
import { expectedDigests } from "../../core/drift/expected";
import { pushUrn } from "../../core/drift/report";
import { loadStackFleet } from "../../core/fleet/load";
import { validateFleet } from "../../core/fleet/validate";
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
