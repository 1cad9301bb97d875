// The review workflow, read as data: what runs on pull requests and what guards `pulumi up`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT_DIR } from "./helpers/stacks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wf: any = parse(readFileSync(join(PROJECT_DIR, ".github/workflows/pulumi.yml"), "utf8"));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const uses = (job: string) => wf.jobs[job].steps.filter((s: any) => s.uses).map((s: any) => s);

test("pull requests run the tests with the README's commands", () => {
  const runs = wf.jobs.test.steps.map((s: { run?: string }) => s.run).filter(Boolean);
  expect(runs).toEqual(["sudo ./scripts/setup.sh", "sudo npm test"]);
});

test("pull requests get a preview of prod, commented on the PR", () => {
  expect(wf.jobs.preview.if).toBe("github.event_name == 'pull_request'");
  const action = uses("preview").find((s: { uses: string }) =>
    s.uses.startsWith("pulumi/actions@"),
  );
  expect(action.with).toMatchObject({
    command: "preview",
    "stack-name": "prod",
    "comment-on-pr": true,
  });
});

test("pull requests get the synth diff between base and PR, with no cloud credentials", () => {
  const job = wf.jobs["synth-diff"];
  expect(job.env).toBeUndefined();
  const script = job.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
  expect(script).toContain("npm run --silent synth -- --stack");
  expect(script).toContain("git diff --no-index synth/base synth/pr");
  for (const stack of ["prod", "clawd", "clavitor", "openclaw", "ollama-home"]) {
    expect(script).toContain(stack);
  }
});

test("pulumi up runs only on main, after the tests, behind the production environment", () => {
  const up = wf.jobs.up;
  expect(up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
  expect(up.needs).toBe("test");
  expect(up.environment).toBe("production");
  const action = uses("up").find((s: { uses: string }) => s.uses.startsWith("pulumi/actions@"));
  expect(action.with).toMatchObject({ command: "up", "stack-name": "prod" });
});
