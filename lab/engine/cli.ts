// One engine operation on the lab that is up, in a process of its own as `pulumi up` is one:
//   tsx lab/engine/cli.ts up|preview|refresh|destroy --stack S [--window N] [--replace URN]…
// It runs the program itself (index.ts) against the lab's checkpoint, with the emulated clouds
// acting on the lab's hosts and the commands running from the operator's machine, and ends with
// the line `engine <op> <stack>: C created, U updated, R replaced, D deleted, S unchanged; N
// commands run`. Exit status 0 only when the operation succeeded.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadStackFleet, projectName } from "../../core/fleet/load";
import { sshTransport } from "../../operator/ssh";
import { Site, OPERATOR_NETNS } from "../site";
import { loadOverride, twinFleet, type RawFleet } from "../twin";
import { installRoleSoftware } from "../standins";
import type { Operation } from "./deployment";
import { awsPackage } from "./providers/aws";
import { cloudflarePackage } from "./providers/cloudflare";
import { commandPackage } from "./providers/command";
import { pulumiPackage } from "./providers/pulumi";
import { randomPackage } from "./providers/random";
import { vultrPackage } from "./providers/vultr";
import { runOperation, summaryLine } from "./run";
import { checkpointFile, stackOutputs } from "./stacks";

const PROJECT_DIR = resolve(__dirname, "..", "..");
const OPERATIONS: readonly Operation[] = ["up", "preview", "refresh", "destroy"];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      window: { type: "string", default: "120" },
      agent: { type: "boolean", default: false },
      "first-contact-only": { type: "boolean", default: false },
      "connect-attempts": { type: "string" },
      // pulumi up --replace URN: replace these resources whatever their diff says.
      replace: { type: "string", multiple: true },
    },
  });
  const operation = positionals[0] as Operation;
  if (!OPERATIONS.includes(operation) || !values.stack) {
    console.error("usage: lab/engine/cli.ts up|preview|refresh|destroy --stack <stack>");
    return 2;
  }
  const stack = values.stack;
  const log = (line: string) => console.log(line);
  const site = Site.open();
  // The fleet the lab runs: the stack file's, or one a test gave it in its place.
  const override = loadOverride();
  const raw = override?.fleet ?? (loadStackFleet(PROJECT_DIR, stack) as RawFleet);
  const fleet = override?.twinned ? raw : twinFleet(raw, site.assignments);
  const file = checkpointFile(stack);
  const counter = { commands: 0 };
  const transport = sshTransport({ netns: OPERATOR_NETNS, env: process.env, counter });
  // An instance boots with the lab's stand-ins for its roles' software (k3s's API and kubeconfig).
  const rolesOf = (name: string) =>
    ((fleet.nodes as RawFleet[]).find((n) => n.name === name)?.roles ?? []) as string[];
  const cloud = site.cloud(log, (host) => installRoleSoftware(host, rolesOf(host.name)));
  const result = await runOperation({
    operation,
    project: projectName(PROJECT_DIR),
    stack,
    program: join(PROJECT_DIR, "index.ts"),
    config: {
      "clawd-mesh:fleet": JSON.stringify(fleet),
      "clawd-mesh:rollbackSeconds": values.window ?? "120",
      ...(values["first-contact-only"] && { "clawd-mesh:firstContactOnly": "true" }),
      ...(values["connect-attempts"] && {
        "clawd-mesh:connectAttempts": values["connect-attempts"],
      }),
      // With --agent the operator's key is in the ssh-agent of SSH_AUTH_SOCK, not the config.
      ...(!values.agent && {
        "clawd-mesh:sshPrivateKey": site.assignments.operatorKey.privateKey,
      }),
    },
    secretKeys: ["clawd-mesh:sshPrivateKey", "clawd-mesh:kumaPushUrls"],
    old: file.load(stack),
    ...(values.replace && { replaceTargets: values.replace }),
    packages: {
      random: randomPackage,
      command: commandPackage(transport),
      vultr: vultrPackage(cloud),
      aws: awsPackage(cloud),
      cloudflare: cloudflarePackage(cloud),
      pulumi: pulumiPackage(stackOutputs),
    },
    log,
    save: (checkpoint) => file.save(checkpoint),
  });
  for (const error of result.errors) log(`error: ${error}`);
  log(summaryLine(operation, stack, result.steps, counter.commands));
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
