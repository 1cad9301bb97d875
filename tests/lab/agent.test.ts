// The operator's key in an ssh-agent rather than in the stack's config: each login session's
// agent listens on a new socket, and a run on a new socket changes nothing.
import type { Lab } from "../../lab/lab";
import {
  counts,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  up,
  NOTHING_CHANGED,
} from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("ollama-home", { agent: true });
}, 300_000);
afterAll(() => stopLab());

test("converged with the key in an agent only", async () => {
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
});

test("an up from a new login session (a new agent socket) runs no command; a preview shows no change", async () => {
  const env = lab.startAgent();
  const again = await up(lab, { agent: true, env });
  expect(counts(again)).toMatchObject(NOTHING_CHANGED);
  const preview = await lab.engine("preview", { agent: true, env: lab.startAgent() });
  expect(counts(preview)).toMatchObject({ created: 0, updated: 0, replaced: 0, deleted: 0 });
}, 180_000);
