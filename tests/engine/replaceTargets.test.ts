// `pulumi up --replace URN` in the lab engine, as pulumi/pulumi's step generator has it
// (step_generator.go: diff() of a targeted replace blames "id"; deployment_executor.go
// checkTargets refuses a target the stack does not hold before anything runs). The drift check
// prints such commands to push drifted nodes again.
import { ops, Thing, World } from "./harness";

const urn = (name: string) => `urn:pulumi:test::proj::test:index:Thing::${name}`;

describe("--replace", () => {
  test("a targeted resource with no change is replaced, create before delete; the others stay", async () => {
    const w = new World();
    const program = () => {
      new Thing("resA", { foo: "bar" });
      new Thing("resB", { foo: "bar" });
    };
    await w.run(program);
    const r = await w.run(program, "up", [urn("resA")]);
    expect(ops(r).sort()).toEqual(["delete-replaced resA", "replace resA", "same resB"]);
    expect(r.steps.find((s) => s.op === "replace")?.keys).toEqual(["id"]);
    expect(w.calls).toEqual(["create resA", "delete resA"]);
    // Once: the next plain up has nothing to do.
    expect(ops(await w.run(program))).toEqual(["same resA", "same resB"]);
  });

  test("a target the stack does not hold fails the run before any step", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", {}));
    const r = await w.run(() => new Thing("resA", { foo: "baz" }), "up", [urn("nope")]);
    expect(r.ok).toBe(false);
    expect(r.steps).toEqual([]);
    expect(r.errors).toEqual([
      `Target '${urn("nope")}' could not be found in the stack.`,
      "one or more targets could not be found in the stack",
    ]);
    expect(w.state("resA")?.inputs.foo).toBeUndefined();
  });
});
