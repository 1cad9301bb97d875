// Runs one engine operation: the program itself (as `pulumi up` runs it, through the Node
// SDK's own runtime: @pulumi/pulumi cmd/run/run.js loads the program inside
// runtime.runInPulumiStack), its registrations answered by the lab's engine.
import * as pulumi from "@pulumi/pulumi";
import { Deployment, type Operation, type StepRecord } from "./deployment";
import { EngineMonitor } from "./monitor";
import type { Package, ProviderConfig } from "./provider";
import type { Checkpoint } from "./state";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
  waitForRPCs(): Promise<void>;
};

export interface RunOptions {
  readonly operation: Operation;
  readonly project: string;
  readonly stack: string;
  /** The program: what `require` loads (index.ts), or a function (for the engine's own tests). */
  readonly program: string | (() => unknown);
  /** Stack config, `<namespace>:<key>` → string, and which keys are secrets. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
  readonly old: Checkpoint;
  readonly packages: Readonly<Record<string, Package>>;
  readonly log: (line: string) => void;
  readonly save: (checkpoint: Checkpoint) => void;
  /** `--replace URN`, repeated. */
  readonly replaceTargets?: readonly string[];
}

export interface RunResult {
  readonly ok: boolean;
  readonly steps: readonly StepRecord[];
  readonly errors: readonly string[];
  readonly checkpoint: Checkpoint;
}

export async function runOperation(o: RunOptions): Promise<RunResult> {
  // Every target must name a resource of the stack, before anything runs (checkTargets).
  const unknown = (o.replaceTargets ?? []).filter(
    (urn) => !o.old.resources.some((r) => r.urn === urn && !r.delete),
  );
  if (unknown.length > 0) {
    return {
      ok: false,
      steps: [],
      errors: [
        ...unknown.map((urn) => `Target '${urn}' could not be found in the stack.`),
        "one or more targets could not be found in the stack",
      ],
      checkpoint: o.old,
    };
  }
  const deployment = new Deployment({
    ...(o.replaceTargets && { replaceTargets: o.replaceTargets }),
    project: o.project,
    stack: o.stack,
    operation: o.operation,
    old: o.old,
    packages: o.packages,
    packageConfig: (pkg) => packageConfig(o.config, pkg),
    log: o.log,
    save: o.save,
  });
  if (o.operation === "refresh") await deployment.refresh();
  else if (o.operation === "destroy") await deployment.destroy();
  else await runProgram(o, deployment);
  const errors = [...deployment.errors];
  return {
    ok: !deployment.hasFailed && errors.length === 0,
    steps: deployment.steps,
    errors,
    checkpoint: deployment.checkpoint(),
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state") as {
  getStore(): { terminated: boolean };
};

async function runProgram(o: RunOptions, deployment: Deployment): Promise<void> {
  const monitor = new EngineMonitor(deployment);
  settings.setMockOptions(monitor, o.project, o.stack, o.operation === "preview");
  // A previous run in this process may have ended with the monitor terminating.
  runtimeState.getStore().terminated = false;
  pulumi.runtime.setAllConfig({ ...o.config }, [...o.secretKeys]);
  // Registrations the stopped engine never answers are rejected when it shuts down, and the SDK
  // leaves some of those rejections unobserved, as it does when the real engine goes away. Any
  // other unobserved rejection is the program's own error, as the language host reports it.
  const unobserved = (reason: unknown) => {
    if (reason instanceof Error && /Resource monitor is terminating/.test(reason.message)) return;
    deployment.programFailed(reason);
  };
  process.on("unhandledRejection", unobserved);
  const program = (async () => {
    try {
      await pulumi.runtime.runInPulumiStack(async () => {
        try {
          const exported =
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            typeof o.program === "string" ? require(o.program) : o.program();
          return exported instanceof Function ? await exported() : await exported;
        } catch (error) {
          // The program threw: an unhandled error, the run stops before any delete.
          deployment.programFailed(error);
          return undefined;
        }
      });
      await settings.waitForRPCs();
      await monitor.settled();
    } catch (error) {
      // A registration the stopped engine refused surfaces here too: not the program's fault.
      if (!deployment.hasFailed) deployment.programFailed(error);
    }
  })();
  // The run ends when the program is done, or when a failed step has stopped the engine and
  // nothing is in flight (deployment_executor.go: the main loop stops taking events).
  try {
    await Promise.race([program, deployment.stopped()]);
    await deployment.finish();
    // Let the SDK observe the shutdown before the handler goes.
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.off("unhandledRejection", unobserved);
  }
}

/** A package's config from the stack's (`aws:region` → { region }), for its default provider. */
function packageConfig(config: Readonly<Record<string, string>>, pkg: string): ProviderConfig {
  const prefix = `${pkg}:`;
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** The line every operation ends with (the lab's contract for scripts). */
export function summaryLine(
  operation: Operation,
  stack: string,
  steps: readonly StepRecord[],
  commands: number,
): string {
  const count = (op: StepRecord["op"]) =>
    steps.filter((s) => s.op === op && (s.ok || operation === "preview")).length;
  return `engine ${operation} ${stack}: ${count("create")} created, ${count("update")} updated, ${count("replace")} replaced, ${count("delete")} deleted, ${count("same")} unchanged; ${commands} commands run`;
}
