// The review workflow, read as data: what runs on pull requests and what guards `pulumi up`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT_DIR } from "./helpers/stacks";

const WORKFLOW = readFileSync(join(PROJECT_DIR, ".github/workflows/pulumi.yml"), "utf8");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wf: any = parse(WORKFLOW);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const uses = (job: string) => wf.jobs[job].steps.filter((s: any) => s.uses).map((s: any) => s);

test("pull requests run the tests with the README's commands", () => {
  const runs = wf.jobs.test.steps.map((s: { run?: string }) => s.run).filter(Boolean);
  expect(runs).toEqual(["sudo ./scripts/setup.sh", "sudo npm test"]);
});

test("pull requests get a preview of prod, commented on the PR", () => {
  expect(wf.jobs.preview.if).toBe(
    "github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name == github.repository",
  );
  const action = uses("preview").find((s: { uses: string }) =>
    s.uses.startsWith("pulumi/actions@"),
  );
  expect(action.with).toMatchObject({
    command: "preview",
    "stack-name": "prod",
    "comment-on-pr": true,
  });
});

describe("a pull request's code never holds production secrets", () => {
  test("no pull_request_target: a fork's PR runs without secrets, and is not previewed", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
  });

  test("nothing by default; each job names its permissions, and only the preview gets OIDC", () => {
    expect(wf.permissions).toEqual({});
    expect(wf.jobs.test.permissions).toEqual({ contents: "read" });
    expect(wf.jobs["synth-diff"].permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
    });
    expect(wf.jobs.preview.permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
      "id-token": "write",
    });
    expect(wf.jobs.up.permissions).toEqual({ contents: "read" });
  });

  test("the preview waits for the tests and the preview environment's approval", () => {
    expect(wf.jobs.preview.needs).toBe("test");
    expect(wf.jobs.preview.environment).toBe("preview");
    expect(wf.jobs.up.environment).toBe("production");
  });

  test("the preview's credentials can only read, and no cloud key is stored for it", () => {
    const env = wf.jobs.preview.env;
    expect(Object.keys(env).sort()).toEqual([
      "CLOUDFLARE_API_TOKEN",
      "PULUMI_ACCESS_TOKEN",
      "PULUMI_CONFIG_PASSPHRASE",
      "VULTR_API_KEY",
    ]);
    expect(env.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_READ_TOKEN }}");
    expect(env.CLOUDFLARE_API_TOKEN).toBe("${{ secrets.CLOUDFLARE_READ_TOKEN }}");
    expect(env.VULTR_API_KEY).toBe("${{ secrets.VULTR_READ_API_KEY }}");
    const aws = uses("preview").find((s: { uses: string }) =>
      s.uses.startsWith("aws-actions/configure-aws-credentials@"),
    );
    expect(aws.with["role-to-assume"]).toBe("${{ vars.PREVIEW_AWS_ROLE_ARN }}");
    expect(aws.with["managed-session-policies"]).toBe("arn:aws:iam::aws:policy/ReadOnlyAccess");
    expect(aws.with).not.toHaveProperty("aws-access-key-id");
    const checkout = uses("preview").find((s: { uses: string }) =>
      s.uses.startsWith("actions/checkout@"),
    );
    expect(checkout.with["persist-credentials"]).toBe(false);
  });

  test("the operator's key is in no stack file: previews get an agent that holds no key", () => {
    const steps = wf.jobs.preview.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    expect(steps).toContain('ssh-agent -a "$RUNNER_TEMP/agent.sock"');
    expect(steps).not.toMatch(/ssh-add/);
    for (const stack of ["prod", "clawd", "clavitor", "openclaw", "ollama-home"]) {
      const file = readFileSync(join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
      expect([stack, /sshPrivateKey/.test(file)]).toEqual([stack, false]);
    }
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

/** Every `uses:` line of a workflow: the action, its commit and the tag in the comment. */
function pinned(text: string): { action: string; sha: string; tag: string; line: string }[] {
  return text
    .split("\n")
    .filter((l) => /^\s*(- )?uses:/.test(l))
    .map((line) => {
      const m = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)$/.exec(line);
      return { action: m?.[1] ?? "", sha: m?.[2] ?? "", tag: m?.[3] ?? "", line };
    });
}

test("every action is pinned by commit, with its tag in a comment", () => {
  const all = pinned(WORKFLOW);
  expect(all.length).toBeGreaterThan(5);
  for (const p of all)
    expect([p.line, p.sha]).toEqual([p.line, expect.stringMatching(/^[0-9a-f]{40}$/)]);
  // One commit per action across jobs, so a bump moves them all.
  const shas = new Map<string, Set<string>>();
  for (const p of all) shas.set(p.action, (shas.get(p.action) ?? new Set()).add(p.sha));
  for (const [action, set] of shas) expect([action, set.size]).toEqual([action, 1]);
});

test("every job runs on Node 24 with the actions' Node 24 majors", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const steps = Object.values(wf.jobs).flatMap((job: any) => job.steps);
  const major = (name: string) =>
    new Set(
      pinned(WORKFLOW)
        .filter((p) => p.action === name)
        .map((p) => p.tag.split(".")[0]),
    );
  expect(major("actions/checkout")).toEqual(new Set(["v5"]));
  expect(major("actions/setup-node")).toEqual(new Set(["v5"]));
  expect(major("pulumi/actions")).toEqual(new Set(["v7"]));
  expect(major("aws-actions/configure-aws-credentials")).toEqual(new Set(["v6"]));
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
      ecosystem("npm").ignore.find(
        (i: { "dependency-name": string }) => i["dependency-name"] === dep,
      );
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

describe("the nixpkgs bump", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const bump: any = parse(
    readFileSync(join(PROJECT_DIR, ".github/workflows/nixpkgs-bump.yml"), "utf8"),
  );
  const job = bump.jobs.bump;
  const runs = (): string[] =>
    job.steps.map((s: { run?: string }) => s.run).filter((r: unknown) => typeof r === "string");

  test("runs every week and by hand", () => {
    expect(bump.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \d$/) }]);
    expect(bump.on).toHaveProperty("workflow_dispatch");
    expect(Object.keys(bump.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
  });

  test("least privilege: nothing by default; one job may push its branch and open a PR", () => {
    expect(bump.permissions).toEqual({});
    expect(Object.keys(bump.jobs)).toEqual(["bump"]);
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write" });
  });

  test("the hash comes from nix, the edit from the bump script, and no npm code runs", () => {
    const script = runs().join("\n");
    expect(script).toContain("apt-get install -y -qq --no-install-recommends nix-bin");
    expect(script).toContain("./scripts/nixpkgs-bump.sh");
    expect(script).toContain("gh pr create");
    expect(script).not.toMatch(/\bnpm\b|\bnpx\b|\bpulumi\b/);
    const actions = job.steps
      .filter((s: { uses?: string }) => s.uses)
      .map((s: { uses: string }) => s.uses);
    expect(actions).toEqual([expect.stringMatching(/^actions\/checkout@[0-9a-f]{40}$/)]);
    const text = readFileSync(join(PROJECT_DIR, ".github/workflows/nixpkgs-bump.yml"), "utf8");
    expect(pinned(text).map((p) => `${p.action} ${p.tag}`)).toEqual(["actions/checkout v5.1.0"]);
  });

  test("secrets reach the steps through env and the checkout, never a command line", () => {
    for (const r of runs()) expect(r).not.toContain("${{");
    const step = job.steps.find((s: { run?: string }) => s.run?.includes("gh pr create"));
    expect(step.env.GH_TOKEN).toBe("${{ secrets.NIXPKGS_BUMP_TOKEN || github.token }}");
  });
});
