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

test("every job runs on Node 24 with the actions' Node 24 majors", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const steps = Object.values(wf.jobs).flatMap((job: any) => job.steps);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const actions = steps.filter((s: any) => s.uses).map((s: any) => s.uses.split("@"));
  const major = (name: string) => new Set(actions.filter(([a]) => a === name).map(([, v]) => v));
  expect(major("actions/checkout")).toEqual(new Set(["v5"]));
  expect(major("actions/setup-node")).toEqual(new Set(["v5"]));
  expect(major("pulumi/actions")).toEqual(new Set(["v7"]));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const versions = steps.filter((s: any) => s.uses?.startsWith("actions/setup-node@"));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  expect(versions.map((s: any) => s.with["node-version"])).toEqual(versions.map(() => 24));
});

describe("dependency updates", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const bot: any = parse(readFileSync(join(PROJECT_DIR, ".github/dependabot.yml"), "utf8"));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ecosystem = (name: string) => bot.updates.find((u: any) => u["package-ecosystem"] === name);

  test("npm packages and workflow actions are proposed in one group each", () => {
    expect(Object.values(ecosystem("npm").groups)).toEqual([{ patterns: ["*"] }]);
    expect(Object.values(ecosystem("github-actions").groups)).toEqual([{ patterns: ["*"] }]);
  });

  test("the command provider is held on 1.2.x and TypeScript on 5", () => {
    const held = (dep: string) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      ecosystem("npm").ignore.find((i: any) => i["dependency-name"] === dep);
    expect(held("@pulumi/command")["update-types"]).toEqual([
      "version-update:semver-major",
      "version-update:semver-minor",
    ]);
    expect(held("typescript")["update-types"]).toEqual(["version-update:semver-major"]);
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8"));
    expect(pkg.dependencies["@pulumi/command"]).toMatch(/^1\.2\.\d+$/);
    expect(pkg.engines.node).toBe(">=22");
  });
});
