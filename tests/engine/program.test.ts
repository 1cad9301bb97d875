// The program itself through the lab's engine, with stand-ins for the clouds and for SSH: what
// each `up` runs, over which path and as whom — the lifecycle the unit tier can see.
import { loadStackFleet } from "../../core/fleet/load";
import { EngineWorld, OPERATOR_ADDRESS } from "../helpers/engineWorld";
import { PROJECT_DIR } from "../helpers/stacks";

jest.setTimeout(180_000);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;
/** A stack as the operator runs it from OPERATOR_ADDRESS (first contact allowed from there). */
const fleetOf = (stack: string, firstContactFrom = [`${OPERATOR_ADDRESS}/32`]): Raw => {
  const fleet = loadStackFleet(PROJECT_DIR, stack) as Raw;
  return { ...fleet, ssh: { ...fleet.ssh, firstContactFrom } };
};

test("first contact from outside ssh.firstContactFrom is dropped by the provider firewall", async () => {
  const w = new EngineWorld({ fleet: fleetOf("openclaw", ["192.0.2.250/32"]) });
  const first = await w.run();
  expect(first.errors).toEqual([
    expect.stringMatching(
      /server-1-bootstrap: create failed: after 10 failed attempts: dial tcp .*:22: i\/o timeout/,
    ),
  ]);
  // Nothing after it started: the push needs first contact.
  expect(first.ran).toEqual([]);
});

describe.each(["openclaw", "clawd", "ollama-home"])("%s", (stack) => {
  test("the first up converges: first contact through the provider firewall, then the pushes", async () => {
    const w = new EngineWorld({ fleet: fleetOf(stack) });
    const first = await w.run();
    expect(first.errors).toEqual([]);
    expect(first.ran.filter((r) => r.kind === "push").length).toBeGreaterThan(0);
  });
});

test("a second up with nothing changed runs nothing, with a key in the config", async () => {
  const w = new EngineWorld({ fleet: fleetOf("openclaw") });
  expect((await w.run()).errors).toEqual([]);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(second.ran).toEqual([]);
  expect(second.summary).toMatch(
    /0 created, 0 updated, 0 replaced, 0 deleted, \d+ unchanged; 0 commands run$/,
  );
  const preview = await w.run("preview");
  expect(preview.steps.filter((s) => s.op !== "same" && s.op !== "read")).toEqual([]);
});

test("a second up with nothing changed runs nothing, with an ssh-agent on a new socket", async () => {
  const w = new EngineWorld({ fleet: fleetOf("clawd"), agent: true });
  expect((await w.run("up", "/tmp/ssh-AAAA/agent.1")).errors).toEqual([]);
  const second = await w.run("up", "/tmp/ssh-BBBB/agent.2");
  expect(second.ran).toEqual([]);
  expect(second.steps.filter((s) => s.op !== "same" && s.op !== "read")).toEqual([]);
});

test("a changed access rule pushes the nodes whose files change, and never first contact again", async () => {
  const fleet = fleetOf("clawd");
  const w = new EngineWorld({ fleet });
  expect((await w.run()).errors).toEqual([]);
  const changed = structuredClone(fleet);
  changed.access[0].tcp = [...changed.access[0].tcp, 8080];
  w.setFleet(changed);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(second.ran.filter((r) => r.kind === "bootstrap")).toEqual([]);
  const pushed = second.steps.filter((s) => s.op === "replace").map((s) => s.urn.split("::").pop());
  expect(pushed.length).toBeGreaterThan(0);
  expect(pushed.every((n) => n?.endsWith("-push"))).toBe(true);
});
