// npm run drift -- --stack <stack> [--outputs <file>] [--ssh-config <file>]
// Reads every node of a deployed stack over its management path — the operator's ssh_config
// as the program renders it (the stack output `sshConfig`), as the admin user, with the
// operator's key or ssh-agent — and compares it with what the program renders for it. Writes
// nothing, on the nodes or in the stack. Exit: 0 nothing drifted, 1 some node drifted,
// 2 a usage or stack problem, 3 some node could not be reached (so its drift is unknown).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadStackFleet, projectName } from "../core/fleet/load";
import { validateFleet } from "../core/fleet/validate";
import type { DeployedNode } from "../core/drift/expected";
import {
  DRIFT_EXIT,
  driftExitCode,
  pulumiUp,
  pushUrn,
  renderDriftReport,
} from "../core/drift/report";
import { STATE_COMMAND } from "../core/delivery/command";
import { checkDrift, type Answer } from "../operator/drift";

const HERE = resolve(__dirname, "..");
/** A node that has not answered in this long is unreachable (a ProxyJump hop included). */
const READ_TIMEOUT_MS = 60_000;

interface StackOutputs {
  readonly nodes?: Record<string, DeployedNode>;
  readonly sshConfig?: string;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      project: { type: "string", default: HERE },
      // `pulumi stack output --json` saved earlier; by default it is asked of the Pulumi CLI.
      outputs: { type: "string" },
      // The operator's own ssh_config (one that Includes the rendered entries, say).
      "ssh-config": { type: "string" },
    },
  });
  if (!values.stack) {
    console.error(
      "usage: npm run drift -- --stack <stack> [--outputs <file>] [--ssh-config <file>]",
    );
    return DRIFT_EXIT.usage;
  }
  const stack = values.stack;
  const project = resolve(values.project ?? HERE);
  const fleet = validateFleet(loadStackFleet(project, stack));
  const outputs = readOutputs(stack, values.outputs);
  const dir = mkdtempSync(join(tmpdir(), "clawd-mesh-drift-"));
  try {
    let config = values["ssh-config"];
    if (!config) {
      if (!outputs.sshConfig)
        throw new Error(`stack ${stack} has no sshConfig output: run \`pulumi up\` first`);
      config = join(dir, "ssh_config");
      writeFileSync(config, outputs.sshConfig, { mode: 0o600 });
    }
    const sshConfig = config;
    const results = await checkDrift(fleet, outputs.nodes ?? {}, (node) => ssh(sshConfig, node));
    process.stdout.write(
      renderDriftReport(
        fleet.mesh.name,
        results,
        (node) => pushUrn(stack, projectName(project), node),
        pulumiUp(stack),
      ),
    );
    return driftExitCode(results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOutputs(stack: string, file: string | undefined): StackOutputs {
  if (file) return JSON.parse(readFileSync(file, "utf8")) as StackOutputs;
  const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `could not read stack ${stack}'s outputs with \`pulumi stack output --json\` (${r.error?.message ?? r.stderr.trim()}); log in to its backend, or pass --outputs <file>`,
    );
  }
  return JSON.parse(r.stdout) as StackOutputs;
}

/** STATE_COMMAND on a node, by name, as the ssh_config routes it (ProxyJump included). */
function ssh(config: string, node: string): Promise<Answer> {
  const args = [
    "-F",
    config,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    node,
    STATE_COMMAND,
  ];
  return new Promise((done) => {
    const child = spawn("ssh", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, READ_TIMEOUT_MS);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", (e) => (stderr += `${e.message}\n`));
    child.on("close", (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr, timedOut });
    });
  });
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = DRIFT_EXIT.usage;
  },
);
