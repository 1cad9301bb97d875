// A small world for the engine's own tests: a test provider whose answers each case sets, and
// programs made of its resources, run through the engine as the lab runs the real program.
import * as pulumi from "@pulumi/pulumi";
import { runOperation, type RunResult } from "../../lab/engine/run";
import type { Operation } from "../../lab/engine/deployment";
import type { DiffResult, Package } from "../../lab/engine/provider";
import { emptyCheckpoint, type Checkpoint } from "../../lab/engine/state";
import type { Props } from "../../lab/engine/values";

export const TYPE = "test:index:Thing";

export class Thing extends pulumi.CustomResource {
  declare readonly value: pulumi.Output<string>;
  declare readonly out: pulumi.Output<string>;

  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(TYPE, name, { ...props, out: undefined }, opts);
  }
}

export class Group extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Group", name, {}, opts);
  }
}

/** What the test provider does; unset parts behave as pulumi's test provider does by default. */
export interface Behaviour {
  diff?: (name: string, olds: Props, news: Props) => DiffResult;
  failCreate?: (name: string) => boolean;
  failUpdate?: (name: string) => boolean;
  failDelete?: (name: string) => boolean;
  /** Milliseconds a create takes. */
  createMs?: (name: string) => number;
}

export class World {
  checkpoint: Checkpoint = emptyCheckpoint("test");
  /** Provider calls, in order: "create A", "update A", "delete A". */
  calls: string[] = [];
  behaviour: Behaviour = {};
  private ids = 0;

  readonly pkg: Package = {
    resources: {
      [TYPE]: {
        diff: (r) => this.behaviour.diff?.(r.name, r.olds, r.news) ?? { changes: "unknown" },
        create: async (r) => {
          if (!r.preview) this.calls.push(`create ${r.name}`);
          await new Promise((resolve) =>
            setTimeout(resolve, this.behaviour.createMs?.(r.name) ?? 0),
          );
          if (!r.preview && this.behaviour.failCreate?.(r.name))
            throw new Error(`create failed intentionally`);
          const out = r.preview
            ? "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
            : `out-of-${r.name}-${++this.ids}`;
          return { id: r.preview ? "" : `${r.name}-id-${this.ids}`, outputs: { ...r.inputs, out } };
        },
        update: async (r) => {
          if (!r.preview) this.calls.push(`update ${r.name}`);
          if (!r.preview && this.behaviour.failUpdate?.(r.name))
            throw new Error(`update failed intentionally`);
          return { ...r.news, out: r.oldOutputs.out ?? null };
        },
        delete: async (r) => {
          this.calls.push(`delete ${r.name}`);
          if (this.behaviour.failDelete?.(r.name)) throw new Error(`delete failed intentionally`);
        },
      },
    },
  };

  async run(
    program: () => unknown,
    operation: Operation = "up",
    replaceTargets?: readonly string[],
  ): Promise<RunResult> {
    this.calls = [];
    const result = await runOperation({
      operation,
      project: "proj",
      stack: "test",
      program,
      config: {},
      secretKeys: [],
      old: this.checkpoint,
      packages: { test: this.pkg },
      log: () => undefined,
      save: () => undefined,
      ...(replaceTargets && { replaceTargets }),
    });
    if (operation !== "preview") this.checkpoint = result.checkpoint;
    return result;
  }

  /** The state of the resource named `name` (not a pending delete). */
  state(name: string) {
    return this.checkpoint.resources.find((r) => r.urn.endsWith(`::${name}`) && !r.delete);
  }
}

/** Steps as "op name", in the order they finished; the stack and components left out. */
export function ops(result: RunResult): string[] {
  return result.steps
    .filter((s) => s.type === TYPE)
    .map((s) => `${s.op} ${s.urn.split("::").pop()}${s.ok ? "" : " (failed)"}`);
}
