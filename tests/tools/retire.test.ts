// cli/retire.ts, run as the -retire Command's delete runs it, against a machine that does not
// answer: the usual reason to replace one is that it died, and that must not hold the up.
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  RETIRE_COMMAND,
  RETIRE_DIAL,
  RETIRE_PLAN_VARIABLE,
  type RetirePlan,
} from "../../core/delivery/retire";
import { PROJECT_DIR } from "../helpers/stacks";
import { requireTools, run, runOk, tempDir } from "../helpers/run";

requireTools("ssh", "ssh-keygen");

const tmp = tempDir("retire");
afterAll(() => tmp.remove());

/** A loopback port nothing listens on: bound, then let go. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test("a machine that does not answer holds nothing up: it says so, within its dial budget, and succeeds", async () => {
  const file = join(tmp.path, "key");
  runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  const plan: RetirePlan = {
    node: "newjersey",
    route: {
      host: "127.0.0.1",
      port: await closedPort(),
      user: "soc",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXZOHGwGJeHtlDjlaFAMCM0/fzBcz7YbrD5Y/JrOiZX",
    },
    dial: RETIRE_DIAL,
  };
  const started = Date.now();
  const [command, ...args] = RETIRE_COMMAND.split(" ");
  const r = run(command as string, args, {
    cwd: PROJECT_DIR,
    input: readFileSync(file, "utf8"),
    env: { ...process.env, [RETIRE_PLAN_VARIABLE]: JSON.stringify(plan), SSH_AUTH_SOCK: "" },
    timeoutMs: 60_000,
  });
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(
    /^clawd-mesh\[newjersey\]: warning: the machine did not answer over soc@127\.0\.0\.1:\d+ within 15 s \(after \d+ failed attempts: .*Connection refused\); nothing to take off the mesh, or, if it still runs, it stays on it until it is deleted at the end of this up\n$/,
  );
  expect(r.status).toBe(0);
  expect(Date.now() - started).toBeLessThan(30_000);
});
