// The lab engine against Pulumi's own lifecycle tests: the same program shape and provider
// answers give the same steps in the same order. Each case names the test it comes from in
// pulumi/pulumi pkg/engine/lifecycletest/ (read at 1b5949891b).
import * as pulumi from "@pulumi/pulumi";
import { Group, ops, Thing, World } from "./harness";

const replaceOnA = (_: string, olds: Record<string, unknown>, news: Record<string, unknown>) =>
  ({ changes: "unknown", ...(olds.A !== news.A && { replaceKeys: ["A"] }) }) as const;

describe("steps for one registration", () => {
  test("create, then same, then delete (framework.MakeBasicLifecycleSteps)", async () => {
    const w = new World();
    const program = () => new Thing("resA", {});
    expect(ops(await w.run(program))).toEqual(["create resA"]);
    expect(ops(await w.run(program))).toEqual(["same resA"]);
    expect(w.calls).toEqual([]);
    expect(ops(await w.run(() => undefined))).toEqual(["delete resA"]);
    expect(w.checkpoint.resources.filter((r) => r.custom)).toEqual([]);
  });

  test("a changed input with no provider diff is an update, by the engine's own diff (rule 13)", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", { foo: "bar" }));
    const r = await w.run(() => new Thing("resA", { foo: "baz" }));
    expect(ops(r)).toEqual(["update resA"]);
    expect(r.steps.find((s) => s.op === "update")?.diffs).toEqual(["foo"]);
    expect(w.state("resA")?.inputs.foo).toBe("baz");
  });

  test("a secret wrapper alone is no change (TestSingleResourceIgnoreChanges, ignore-secret)", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", { foo: "bar" }));
    const r = await w.run(() => new Thing("resA", { foo: pulumi.secret("bar") }));
    expect(ops(r)).toEqual(["same resA"]);
  });

  test("create before delete: the old one goes after the program (TestExplicitDeleteBeforeReplace -0-1)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    const program = (a: string) => () => {
      const resA = new Thing("resA", { A: a });
      new Thing("resB", { A: resA.out.apply(() => "fixed") }, { dependsOn: [resA] });
    };
    await w.run(program("foo"));
    const r = await w.run(program("bar"));
    expect(ops(r)).toEqual(["replace resA", "same resB", "delete-replaced resA"]);
    expect(w.calls).toEqual(["create resA", "delete resA"]);
  });

  test("delete before replace: the old one goes first (TestExplicitDeleteBeforeReplace -0-2, the root)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    await w.run(() => new Thing("resA", { A: "foo" }, { deleteBeforeReplace: true }));
    const r = await w.run(() => new Thing("resA", { A: "bar" }, { deleteBeforeReplace: true }));
    expect(ops(r)).toEqual(["delete-replaced resA", "replace resA"]);
    expect(w.calls).toEqual(["delete resA", "create resA"]);
  });

  test("the provider asks delete-before-replace; an explicit false overrides it (-0-5, -0-6)", async () => {
    const w = new World();
    w.behaviour.diff = (...a) => ({ ...replaceOnA(...a), deleteBeforeReplace: true });
    await w.run(() => new Thing("resA", { A: "1" }));
    await w.run(() => new Thing("resA", { A: "2" }));
    expect(w.calls).toEqual(["delete resA", "create resA"]);
    await w.run(() => new Thing("resA", { A: "3" }, { deleteBeforeReplace: false }));
    expect(w.calls).toEqual(["create resA", "delete resA"]);
  });
});

describe("replaceOnChanges and ignoreChanges", () => {
  test("triggers[*] replaces on a changed element, not on the whole property appearing (rules 18-19)", async () => {
    const w = new World();
    const opts = { replaceOnChanges: ["triggers[*]"] };
    await w.run(() => new Thing("resA", { x: 1 }, opts));
    expect(ops(await w.run(() => new Thing("resA", { x: 1, triggers: ["a"] }, opts)))).toEqual([
      "update resA",
    ]);
    expect(ops(await w.run(() => new Thing("resA", { x: 1, triggers: ["b"] }, opts)))).toEqual([
      "replace resA",
      "delete-replaced resA",
    ]);
    expect(ops(await w.run(() => new Thing("resA", { x: 2, triggers: ["b"] }, opts)))).toEqual([
      "update resA",
    ]);
  });

  test("replaceOnChanges never makes a change where there is none (TestReplaceOnChanges)", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", { a: 1 }, { replaceOnChanges: ["*"] }));
    expect(
      ops(await w.run(() => new Thing("resA", { a: 1 }, { replaceOnChanges: ["*"] }))),
    ).toEqual(["same resA"]);
  });

  test("ignored paths keep their old values; others still update (TestSingleResourceIgnoreChanges)", async () => {
    const w = new World();
    const opts = { ignoreChanges: ["a", "b.c"] };
    await w.run(() => new Thing("resA", { a: 1, b: { c: "x", d: "y" }, e: 1 }, opts));
    expect(
      ops(await w.run(() => new Thing("resA", { a: 2, b: { c: "z", d: "y" }, e: 1 }, opts))),
    ).toEqual(["same resA"]);
    expect(
      ops(await w.run(() => new Thing("resA", { b: { c: "z", d: "y" }, e: 1 }, opts))),
    ).toEqual(["same resA"]);
    const r = await w.run(() => new Thing("resA", { a: 3, b: { c: "z", d: "w" }, e: 1 }, opts));
    expect(ops(r)).toEqual(["update resA"]);
    expect(w.state("resA")?.inputs).toMatchObject({ a: 1, b: { c: "x", d: "w" } });
  });

  test("a replacement takes the program's values, ignored paths included (step_generator.go 2003-2025)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    const opts = { ignoreChanges: ["key"] };
    await w.run(() => new Thing("resA", { A: "1", key: "old" }, opts));
    await w.run(() => new Thing("resA", { A: "2", key: "new" }, opts));
    expect(w.state("resA")?.inputs).toMatchObject({ A: "2", key: "new" });
  });
});

describe("protect and retainOnDelete", () => {
  test("a protected resource is not replaced: no step, the run fails (TestProtect step 2)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    await w.run(() => new Thing("resA", { A: "1" }, { protect: true }));
    const r = await w.run(() => new Thing("resA", { A: "2" }, { protect: true }));
    expect(r.ok).toBe(false);
    expect(r.errors.join("\n")).toMatch(
      /unable to replace resource .*resA.* marked for protection/,
    );
    expect(w.calls).toEqual([]);
    expect(w.state("resA")?.inputs.A).toBe("1");
  });

  test("unprotecting in the same run allows the replace (TestProtect step 4)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    await w.run(() => new Thing("resA", { A: "1" }, { protect: true }));
    const r = await w.run(() => new Thing("resA", { A: "2" }, { protect: false }));
    expect(ops(r)).toEqual(["replace resA", "delete-replaced resA"]);
  });

  test("every protected delete is reported, none runs (TestMultipleProtectedDeletes)", async () => {
    const w = new World();
    await w.run(() => {
      new Thing("resA", {}, { protect: true });
      new Thing("resB", {}, { protect: true });
    });
    const r = await w.run(() => undefined);
    expect(r.ok).toBe(false);
    expect(
      r.errors.filter((e) => /cannot be deleted because it is protected/.test(e)),
    ).toHaveLength(2);
    expect(w.calls).toEqual([]);
    expect(w.checkpoint.resources.filter((x) => x.custom)).toHaveLength(2);
  });

  test("retainOnDelete: replaced and deleted without the provider's delete (TestRetainOnDelete)", async () => {
    const w = new World();
    w.behaviour.diff = replaceOnA;
    await w.run(() => new Thing("resA", { A: "1" }, { retainOnDelete: true }));
    const r = await w.run(() => new Thing("resA", { A: "2" }, { retainOnDelete: true }));
    expect(ops(r)).toEqual(["replace resA", "delete-replaced resA"]);
    expect(w.calls).toEqual(["create resA"]);
    expect(ops(await w.run(() => undefined))).toEqual(["delete resA"]);
    expect(w.calls).toEqual([]);
    expect(w.checkpoint.resources.filter((x) => x.custom)).toEqual([]);
  });
});

describe("failures", () => {
  test("a failed create saves nothing and the run fails naming it (TestResourceError)", async () => {
    const w = new World();
    w.behaviour.failCreate = (n) => n === "resA";
    const r = await w.run(() => new Thing("resA", {}));
    expect(r.ok).toBe(false);
    expect(r.errors.join("\n")).toMatch(/resA: create failed: create failed intentionally/);
    expect(w.state("resA")).toBeUndefined();
    w.behaviour.failCreate = undefined;
    expect(ops(await w.run(() => new Thing("resA", {})))).toEqual(["create resA"]);
  });

  test("after a failure no new step starts; steps in flight finish (step_executor.go cancelDueToError)", async () => {
    const w = new World();
    w.behaviour.failCreate = (n) => n === "fails";
    w.behaviour.createMs = (n) => (n === "slow" ? 300 : 0);
    const r = await w.run(() => {
      new Thing("slow", {});
      const fails = new Thing("fails", {});
      new Thing("after", {}, { dependsOn: [fails] });
      const late = new Promise<string>((resolve) => setTimeout(() => resolve("x"), 150));
      new Thing("late", { v: late });
    });
    expect(ops(r).sort()).toEqual(["create fails (failed)", "create slow"]);
    expect(w.state("slow")).toBeDefined();
    expect(w.state("late")).toBeUndefined();
  });

  test("a failed update keeps the old state, so the next run tries again (rule 43)", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", { foo: "1" }));
    w.behaviour.failUpdate = () => true;
    const r = await w.run(() => new Thing("resA", { foo: "2" }));
    expect(r.ok).toBe(false);
    expect(w.state("resA")?.inputs.foo).toBe("1");
    w.behaviour.failUpdate = undefined;
    expect(ops(await w.run(() => new Thing("resA", { foo: "2" })))).toEqual(["update resA"]);
  });

  test("a failure skips every delete; the next good run deletes dependents first (TestPendingDeleteOrder)", async () => {
    const w = new World();
    w.behaviour.diff = (_n, olds, news) =>
      ({
        changes: "unknown",
        ...(JSON.stringify(olds) !== JSON.stringify(news) && { replaceKeys: ["foo"] }),
      }) as const;
    const program = (foo: string) => () => {
      const a = new Thing("A", { foo });
      new Thing("B", { parent: a.id });
    };
    await w.run(program("bar"));
    w.behaviour.failCreate = (n) => n === "B";
    const first = await w.run(program("baz"));
    expect(ops(first)).toEqual(["replace A", "replace B (failed)"]);
    expect(w.calls).toEqual(["create A", "create B"]);
    expect(w.checkpoint.resources.filter((x) => x.custom)).toHaveLength(3);
    w.behaviour.failCreate = undefined;
    const second = await w.run(program("baz"));
    expect(ops(second)).toEqual(["same A", "replace B", "delete-replaced B", "delete-replaced A"]);
  });

  test("a program error stops before deletes: what it did not declare stays (TestProgramError)", async () => {
    const w = new World();
    await w.run(() => {
      new Thing("resA", {});
      new Thing("resB", {});
    });
    const r = await w.run(() => {
      new Thing("resA", {});
      throw new Error("program error");
    });
    expect(r.ok).toBe(false);
    expect(r.errors.join("\n")).toMatch(/program error/);
    expect(w.state("resB")).toBeDefined();
  });
});

describe("deletes, aliases, preview", () => {
  test("what the program no longer declares is deleted, dependents first (TestComponentDeleteDependencies)", async () => {
    const w = new World();
    await w.run(() => {
      const first = new Thing("first", {});
      const second = new Thing("second", { f: first.id });
      new Thing("third", {}, { dependsOn: [second] });
    });
    await w.run(() => undefined);
    expect(w.calls).toEqual(["delete third", "delete second", "delete first"]);
  });

  test("a rename with an alias is the same resource (TestAliases t1-n2)", async () => {
    const w = new World();
    await w.run(() => new Thing("n1", { x: 1 }));
    const r = await w.run(() => new Thing("n2", { x: 1 }, { aliases: [{ name: "n1" }] }));
    expect(ops(r)).toEqual(["same n2"]);
    expect(w.calls).toEqual([]);
    expect(w.state("n1")).toBeUndefined();
  });

  test("a component's alias carries its children, named after it (inheritedChildAlias)", async () => {
    const w = new World();
    await w.run(() => {
      const g = new Group("app");
      new Thing("app-function", { x: 1 }, { parent: g });
    });
    const r = await w.run(() => {
      const g = new Group("newapp", { aliases: [{ name: "app" }] });
      new Thing("newapp-function", { x: 1 }, { parent: g });
    });
    expect(ops(r)).toEqual(["same newapp-function"]);
    expect(w.calls).toEqual([]);
  });

  test("a preview runs nothing and shows what is not yet known (TestProviderPreview)", async () => {
    const w = new World();
    await w.run(() => new Thing("resA", { foo: "1" }));
    let seen: string | undefined;
    const r = await w.run(() => {
      const a = new Thing("resA", { foo: "2" });
      const b = new Thing("resB", { v: a.out });
      b.out.apply((v) => (seen = v));
    }, "preview");
    expect(ops(r)).toEqual(["update resA", "create resB"]);
    expect(w.calls).toEqual([]);
    expect(seen).toBeUndefined();
    expect(w.state("resA")?.inputs.foo).toBe("1");
  });
});
