// One engine operation over a checkpoint: registrations from the program become steps, run as
// the Pulumi engine runs them (pkg/resource/deploy/step_generator.go, step.go,
// step_executor.go, deployment_executor.go, read at 1b5949891b). Every rule below cites where
// it comes from; the step choice itself is in steps.ts.
import type { Package, ProviderConfig, ResourceProvider } from "./provider";
import type { Checkpoint, ResourceState } from "./state";
import {
  aliasUrns,
  decide,
  decideComponent,
  deleteBatches,
  effectiveDiff,
  urnOf,
  urnParts,
  type Decision,
  type Goal,
} from "./steps";
import {
  containsUnknown,
  isSecret,
  resetPaths,
  secret,
  UNKNOWN,
  type Props,
  type Value,
} from "./values";

export type Operation = "up" | "preview" | "refresh" | "destroy";

/** A logical step as the engine reports it (display.StepOp). */
export interface StepRecord {
  /** Logical steps, and the delete half of a replacement (delete-replaced, not counted). */
  readonly op:
    "same" | "create" | "update" | "replace" | "delete" | "delete-replaced" | "read" | "refresh";
  readonly urn: string;
  readonly type: string;
  readonly keys: readonly string[];
  readonly diffs: readonly string[];
  readonly detail: readonly string[];
  readonly ok: boolean;
  readonly error?: string;
  readonly seconds: number;
}

export interface Reply {
  readonly urn: string;
  readonly id: string;
  readonly outputs: Props;
}

/** What the SDK gets when the engine stops answering: grpc UNAVAILABLE (EV Cancel). */
export class MonitorTerminating extends Error {
  readonly code = 14;
  constructor() {
    super("Resource monitor is terminating");
  }
}

export interface DeploymentOptions {
  readonly project: string;
  readonly stack: string;
  readonly operation: Operation;
  readonly old: Checkpoint;
  readonly packages: Readonly<Record<string, Package>>;
  /** Stack config by package (`aws` → { region }): what default providers are configured with. */
  readonly packageConfig: (pkg: string) => ProviderConfig;
  readonly log: (line: string) => void;
  /** Called after every change to the state, with the whole checkpoint (the snapshot manager). */
  readonly save: (checkpoint: Checkpoint) => void;
  /** `pulumi up --replace URN`: these are replaced whatever their diff says. */
  readonly replaceTargets?: readonly string[];
}

export class Deployment {
  readonly steps: StepRecord[] = [];
  readonly errors: string[] = [];
  /** The checkpoint as it evolves: old resources not yet dealt with, then this run's. */
  private resources: ResourceState[];
  private readonly registered = new Map<string, ResourceState | undefined>();
  /** Old states claimed by a registration (by URN or alias): never deleted as undeclared. */
  private readonly claimed = new Set<ResourceState>();
  /** Old URN → the URN that claimed it, and back (sg.aliased, sg.aliases). */
  private readonly aliased = new Map<string, string>();
  private readonly oldUrnOf = new Map<string, string>();
  private failed = false;
  private inFlight = 0;
  private readonly parked: (() => void)[] = [];
  private idle: (() => void) | undefined;
  private readonly preview: boolean;

  constructor(private readonly o: DeploymentOptions) {
    this.resources = [...o.old.resources];
    this.preview = o.operation === "preview";
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  urn(type: string, name: string, parent: string): string {
    return urnOf(this.o.stack, this.o.project, type, name, parent);
  }

  /** One registration (RegisterResource), answered when its step has run and been saved. */
  async register(goal: Goal): Promise<Reply> {
    // After a failure no new step starts; the registration is never answered (rule 41).
    if (this.failed) return this.park();
    if (this.registered.has(goal.urn)) {
      return this.bail(goal.urn, `duplicate resource URN '${goal.urn}'`);
    }
    const old = this.findOld(goal);
    if (this.failed) return this.park();
    this.registered.set(goal.urn, old);
    if (!goal.custom) return this.component(goal, old);
    if (goal.type.startsWith("pulumi:providers:")) return this.providerResource(goal, old);
    return this.custom(goal, old);
  }

  /** The outputs a component (or the stack) reports (RegisterResourceOutputs). */
  registerOutputs(urn: string, outputs: Props): void {
    // After an error the stack keeps its old outputs (TestStackOutputsResourceError).
    if (this.failed && urnParts(urn).type === "pulumi:pulumi:Stack") return;
    const i = this.resources.findIndex((r) => r.urn === urn && !r.delete);
    const r = this.resources[i];
    if (!r) return;
    this.resources[i] = { ...r, outputs };
    this.save();
  }

  /** The program itself failed: no delete runs, and its stack outputs are not replaced. */
  programFailed(error: unknown): void {
    this.fail(`an unhandled error occurred: ${errorText(error)}`);
  }

  /** Resolves once a failure has stopped the run and nothing is in flight any more. */
  stopped(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.failed && this.inFlight === 0) resolve();
        else this.idle = check;
      };
      check();
    });
  }

  /**
   * After the program: deletes of what it no longer declares and of replaced resources, only if
   * nothing failed (deployment_executor.go performPostSteps); pending registrations are told the
   * monitor is terminating.
   */
  async finish(): Promise<void> {
    if (!this.failed) await this.deletes();
    this.terminate();
    this.save();
  }

  checkpoint(): Checkpoint {
    return { stack: this.o.stack, resources: this.resources };
  }

  /** Refresh: every resource read from its provider; one with no Read is unchanged. */
  async refresh(): Promise<void> {
    for (const r of [...this.resources]) {
      if (!r.custom || r.type.startsWith("pulumi:providers:")) continue;
      const res = this.provider(r.type);
      const started = Date.now();
      const read = res.read
        ? await res.read({ ...this.request(r), id: r.id, inputs: r.inputs, outputs: r.outputs })
        : { id: r.id, outputs: r.outputs };
      if (!read || read.id === "") {
        this.resources = this.resources.filter((x) => x !== r);
        this.record("delete", r.urn, [], [], [], true, started);
      } else {
        const changed = JSON.stringify(read.outputs) !== JSON.stringify(r.outputs);
        this.replaceState(r, { ...r, outputs: read.outputs });
        this.record(changed ? "update" : "same", r.urn, [], [], [], true, started);
      }
    }
    this.save();
  }

  /** Destroy: every resource deleted, dependents first. */
  async destroy(): Promise<void> {
    await this.runDeletes(this.resources.filter((r) => !r.pendingReplacement));
    this.save();
  }

  // --- registrations ---------------------------------------------------------------------

  /** By URN first, then by each alias in order (getOldResource); a state is claimed once. */
  private findOld(goal: Goal): ResourceState | undefined {
    const aliases = aliasUrns(goal, this.o.stack, this.o.project, (p) => this.oldUrnOf.get(p));
    for (const urn of [goal.urn, ...aliases]) {
      if (urn !== goal.urn && this.aliased.has(urn)) {
        this.fail(
          `${goal.urn}: Duplicate resource alias '${urn}' applied to resource with URN '${goal.urn}'`,
        );
        return undefined;
      }
      const old = this.resources.find((r) => r.urn === urn && !r.delete && !this.claimed.has(r));
      if (old) {
        this.claimed.add(old);
        if (urn !== goal.urn) {
          this.aliased.set(urn, goal.urn);
          this.oldUrnOf.set(goal.urn, urn);
        }
        return old;
      }
    }
    return undefined;
  }

  private async component(goal: Goal, old: ResourceState | undefined): Promise<Reply> {
    const decision = decideComponent(goal, old);
    this.put(old, this.stateOf(goal, "", old?.outputs ?? {}));
    const op = decision.op === "update" ? "update" : decision.op === "create" ? "create" : "same";
    const diffs = decision.op === "update" ? decision.diffs : [];
    this.record(op, goal.urn, [], diffs, [], true, Date.now(), true);
    return { urn: goal.urn, id: "", outputs: {} };
  }

  /** Explicit providers: configuration only, no cloud effect; a new one gets an id. */
  private async providerResource(goal: Goal, old: ResourceState | undefined): Promise<Reply> {
    const id = old?.id ?? (this.preview ? "" : `${urnParts(goal.urn).name}-${randomHex()}`);
    const state = this.stateOf(goal, id, goal.inputs);
    this.put(old, state);
    const decision = decideComponent(goal, old);
    this.record(
      decision.op === "update" ? "update" : decision.op === "create" ? "create" : "same",
      goal.urn,
      [],
      decision.op === "update" ? decision.diffs : [],
      [],
      true,
      Date.now(),
    );
    return { urn: goal.urn, id: id || UNKNOWN, outputs: goal.inputs };
  }

  private async custom(goal: Goal, old: ResourceState | undefined): Promise<Reply> {
    const res = this.provider(goal.type);
    const config = this.configOf(goal.provider);
    const base = { urn: goal.urn, name: goal.name, type: goal.type, preview: this.preview, config };
    // ignoreChanges: the old values stand in for the new ones before Check and Diff (rule 11).
    let news = goal.inputs;
    if (old && !old.pendingReplacement && goal.ignoreChanges.length > 0) {
      const reset = resetPaths(old.inputs, news, goal.ignoreChanges);
      for (const path of reset.skipped) {
        this.o.log(
          `info: ${goal.urn}: cannot ignore changes in added or removed elements of ${path}`,
        );
      }
      news = reset.props;
    }
    // A targeted replacement is checked without its old inputs and diffed as a replacement that
    // blames the id, whatever changed (step_generator.go: isTargetedReplace in checkInputs, diff).
    const targeted = old !== undefined && (this.o.replaceTargets ?? []).includes(goal.urn);
    news = res.check?.({ ...base, ...(old && !targeted && { olds: old.inputs }), news }) ?? news;
    const decision: Decision = old
      ? decide(
          goal,
          old,
          targeted
            ? { changes: "some", replaceKeys: ["id"] }
            : effectiveDiff(
                old.inputs,
                news,
                res.diff?.({
                  ...base,
                  id: old.id,
                  olds: old.inputs,
                  oldOutputs: old.outputs,
                  news,
                  ignoreChanges: goal.ignoreChanges,
                }) ?? { changes: "unknown" },
              ),
        )
      : { op: "create" };

    switch (decision.op) {
      case "same":
        return this.same(goal, old as ResourceState, news);
      case "create":
        return this.step("create", goal, [], [], [], () => this.create(goal, res, base, news));
      case "update":
        return this.step("update", goal, [], decision.diffs, describe(decision.paths, news), () =>
          this.update(goal, res, base, old as ResourceState, news),
        );
      case "protected-replace": {
        // The CLI shows the step's diff beside the error: which fields would replace it.
        const diff =
          decision.keys.length > 0 ? ` [diff: ${decision.keys.map((k) => `~${k}`).join(" ")}]` : "";
        const message = `unable to replace resource "${goal.urn}" as it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`${diff}`;
        return this.bail(goal.urn, message);
      }
      case "replace": {
        // Replacement recomputes defaults from the program's inputs alone (step_generator.go
        // 2003-2025): ignoreChanges does not carry old values into the new resource.
        const fresh = res.check?.({ ...base, news: goal.inputs }) ?? goal.inputs;
        return this.step(
          "replace",
          goal,
          decision.keys,
          decision.diffs,
          describe(decision.paths, fresh),
          () =>
            this.replace(
              goal,
              res,
              base,
              old as ResourceState,
              fresh,
              decision.deleteBeforeReplace,
            ),
        );
      }
    }
  }

  private same(goal: Goal, old: ResourceState, news: Props): Reply {
    // SameStep.Apply: the old id and outputs, the new inputs and options.
    const state = this.stateOf({ ...goal, inputs: news }, old.id, old.outputs);
    this.put(old, state);
    this.record("same", goal.urn, [], [], [], true, Date.now());
    return { urn: goal.urn, id: old.id, outputs: this.secretOutputs(goal, old.outputs) };
  }

  private async create(
    goal: Goal,
    res: ResourceProvider,
    base: RequestBase,
    inputs: Props,
  ): Promise<Reply> {
    const made = await res.create({ ...base, inputs });
    const outputs = this.secretOutputs(goal, made.outputs, inputs);
    if (!this.preview) this.put(undefined, this.stateOf({ ...goal, inputs }, made.id, outputs));
    return { urn: goal.urn, id: made.id || (this.preview ? UNKNOWN : ""), outputs };
  }

  private async update(
    goal: Goal,
    res: ResourceProvider,
    base: RequestBase,
    old: ResourceState,
    news: Props,
  ): Promise<Reply> {
    const outputs = this.secretOutputs(
      goal,
      await res.update({ ...base, id: old.id, olds: old.inputs, oldOutputs: old.outputs, news }),
      news,
    );
    // A failed update throws before this: the old state stays as it was (rule 43).
    if (!this.preview) this.put(old, this.stateOf({ ...goal, inputs: news }, old.id, outputs));
    return { urn: goal.urn, id: old.id, outputs };
  }

  /**
   * Create before delete: the new resource is made, and the old one waits, marked, for the
   * deletes after the program (rule 28). Delete before replace: the old one goes first — here
   * only the resource itself; dependents of it are not replaced with it (see README).
   */
  private async replace(
    goal: Goal,
    res: ResourceProvider,
    base: RequestBase,
    old: ResourceState,
    inputs: Props,
    deleteFirst: boolean,
  ): Promise<Reply> {
    if (deleteFirst && !old.pendingReplacement) {
      const started = Date.now();
      if (!this.preview) {
        await this.deleteOne(old, true);
        this.replaceState(old, { ...old, pendingReplacement: true });
      }
      this.record("delete-replaced", old.urn, [], [], [], true, started, true);
    }
    const made = await res.create({ ...base, inputs });
    const outputs = this.secretOutputs(goal, made.outputs, inputs);
    if (!this.preview) {
      const state = this.stateOf({ ...goal, inputs }, made.id, outputs);
      if (deleteFirst) this.put(this.current(old), state);
      else {
        this.replaceState(old, { ...old, delete: true });
        this.put(undefined, state);
      }
    }
    return { urn: goal.urn, id: made.id || (this.preview ? UNKNOWN : ""), outputs };
  }

  // --- running steps ---------------------------------------------------------------------

  /**
   * A step runs unless the run has already failed; if it fails, the run stops: steps in flight
   * finish, no new one starts, the registration is never answered (step_executor.go
   * cancelDueToError; TestResourceError).
   */
  private async step(
    op: StepRecord["op"],
    goal: Goal,
    keys: readonly string[],
    diffs: readonly string[],
    detail: readonly string[],
    run: () => Promise<Reply>,
  ): Promise<Reply> {
    if (this.failed) return this.park();
    const started = Date.now();
    this.inFlight++;
    try {
      const reply = await run();
      this.record(op, goal.urn, keys, diffs, detail, true, started);
      return reply;
    } catch (error) {
      this.record(op, goal.urn, keys, diffs, detail, false, started, false, errorText(error));
      this.fail(`${goal.urn}: ${op} failed: ${errorText(error)}`);
      return this.park();
    } finally {
      this.inFlight--;
      this.idle?.();
    }
  }

  private async deletes(): Promise<void> {
    const operated = (r: ResourceState) =>
      this.claimed.has(r) || this.registered.has(r.urn) || this.aliased.has(r.urn);
    const condemned = this.resources.filter((r) => r.delete || !operated(r));
    await this.runDeletes(condemned);
  }

  private async runDeletes(condemned: readonly ResourceState[]): Promise<void> {
    for (const batch of deleteBatches(condemned)) {
      if (this.failed) return;
      await Promise.all(
        batch.map(async (r) => {
          const started = Date.now();
          // A resource replaced earlier is a delete-replaced: part of its replace, not counted.
          const op = r.delete ? "delete-replaced" : "delete";
          // Deleting a protected resource fails, but never stops the other deletes (rule 41).
          if (r.protect && !r.delete) {
            const message = `resource "${r.urn}" cannot be deleted because it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command: \`pulumi state unprotect '${r.urn}'\``;
            this.errors.push(message);
            this.record("delete", r.urn, [], [], [], false, started, false, message);
            this.failedProtect = true;
            return;
          }
          if (this.preview) {
            this.record(op, r.urn, [], [], [], true, started, op !== "delete");
            return;
          }
          this.inFlight++;
          try {
            await this.deleteOne(r, false);
            this.resources = this.resources.filter((x) => x !== r);
            this.save();
            this.record(op, r.urn, [], [], [], true, started, op !== "delete");
          } catch (error) {
            this.record(op, r.urn, [], [], [], false, started, false, errorText(error));
            this.fail(`${r.urn}: delete failed: ${errorText(error)}`);
          } finally {
            this.inFlight--;
          }
        }),
      );
    }
    if (this.failedProtect) this.failed = true;
  }

  private failedProtect = false;

  /** The provider's Delete — not for components, nor for what is retained (rule 37). */
  private async deleteOne(r: ResourceState, replacing: boolean): Promise<void> {
    if (!r.custom || r.type.startsWith("pulumi:providers:")) return;
    if (r.retainOnDelete) {
      this.o.log(`  ${r.urn}: retained (retainOnDelete): the provider's delete is not called`);
      return;
    }
    void replacing;
    await this.provider(r.type).delete({
      ...this.request(r),
      id: r.id,
      inputs: r.inputs,
      outputs: r.outputs,
    });
  }

  // --- state ---------------------------------------------------------------------------

  private stateOf(goal: Goal, id: string, outputs: Props): ResourceState {
    return {
      urn: goal.urn,
      type: goal.type,
      custom: goal.custom,
      id,
      parent: goal.parent,
      provider: goal.provider,
      inputs: goal.inputs,
      outputs,
      dependencies: goal.dependencies,
      propertyDependencies: goal.propertyDependencies,
      ...(goal.protect !== undefined && { protect: goal.protect }),
      ...(goal.retainOnDelete !== undefined && { retainOnDelete: goal.retainOnDelete }),
      ...(goal.additionalSecretOutputs.length > 0 && {
        additionalSecretOutputs: goal.additionalSecretOutputs,
      }),
    };
  }

  /** Puts `next` in place of `old` (or adds it), and saves the checkpoint. */
  private put(old: ResourceState | undefined, next: ResourceState): void {
    if (this.preview) return;
    const at = old ? this.resources.indexOf(old) : -1;
    if (at >= 0) this.resources[at] = next;
    else this.resources.push(next);
    if (old) this.claimed.add(next);
    this.save();
  }

  private replaceState(old: ResourceState, next: ResourceState): void {
    const at = this.resources.indexOf(old);
    if (at >= 0) this.resources[at] = next;
    if (this.claimed.has(old)) this.claimed.add(next);
    this.save();
  }

  private current(old: ResourceState): ResourceState | undefined {
    return this.resources.find((r) => r.urn === old.urn && r.pendingReplacement);
  }

  private save(): void {
    if (!this.preview) this.o.save(this.checkpoint());
  }

  /**
   * Outputs named in additionalSecretOutputs, and any output whose input of the same name is
   * secret, go back as secrets (step_executor.go continueExecuteStep 519-570).
   */
  private secretOutputs(goal: Goal, outputs: Props, inputs: Props = goal.inputs): Props {
    const out: Record<string, Value> = { ...outputs };
    for (const key of Object.keys(out)) {
      const v = out[key] as Value;
      if (goal.additionalSecretOutputs.includes(key) || isSecret(inputs[key])) out[key] = secret(v);
    }
    return out;
  }

  // --- providers -----------------------------------------------------------------------

  private provider(type: string): ResourceProvider {
    const pkg = this.o.packages[packageOf(type)];
    const res = pkg?.resources[type];
    if (!res) throw new Error(`the lab's engine has no provider for ${type}`);
    return res;
  }

  /** An explicit provider's inputs, or the package's stack config for the default one. */
  private configOf(ref: string): ProviderConfig {
    const urn = ref.split("::").slice(0, -1).join("::");
    const explicit = urn && this.resources.find((r) => r.urn === urn && !r.delete);
    if (explicit) return explicit.inputs;
    return this.o.packageConfig(urnParts(urn).type.replace("pulumi:providers:", ""));
  }

  private request(r: ResourceState) {
    const { name, type } = urnParts(r.urn);
    return { urn: r.urn, name, type, preview: this.preview, config: this.configOf(r.provider) };
  }

  /**
   * A read of something the program does not manage (ReadResource: a StackReference): its
   * provider's Read, answered with the outputs. Kept out of the checkpoint here.
   */
  async read(urn: string, type: string, id: string, inputs: Props): Promise<Props> {
    const res = this.provider(type);
    const started = Date.now();
    const { name } = urnParts(urn);
    const found = await res.read?.({
      urn,
      name,
      type,
      preview: this.preview,
      config: this.o.packageConfig(packageOf(type)),
      id,
      inputs,
      outputs: {},
    });
    this.record("read", urn, [], [], [], true, started, true);
    return found?.outputs ?? {};
  }

  /** Invoke (data sources): the package's function, with its default or given provider. */
  async invoke(token: string, args: Props, providerRef: string): Promise<Props> {
    const fn = this.o.packages[token.split(":")[0] ?? ""]?.functions?.[token];
    if (!fn) throw new Error(`the lab's engine has no function ${token}`);
    const config = providerRef
      ? this.configOf(providerRef)
      : this.o.packageConfig(token.split(":")[0] ?? "");
    return fn(args, config);
  }

  // --- failure -------------------------------------------------------------------------

  private fail(message: string): void {
    this.errors.push(message);
    this.failed = true;
    this.idle?.();
  }

  /** A step-generation error: the run fails at once, with no step (rule 46). */
  private bail(urn: string, message: string): Promise<never> {
    this.fail(`${urn}: ${message}`);
    return this.park();
  }

  /** A registration the engine will not answer until it shuts down. */
  private park(): Promise<never> {
    return new Promise((_, reject) => this.parked.push(() => reject(new MonitorTerminating())));
  }

  private terminate(): void {
    for (const stop of this.parked.splice(0)) stop();
  }

  private record(
    op: StepRecord["op"],
    urn: string,
    keys: readonly string[],
    diffs: readonly string[],
    detail: readonly string[],
    ok: boolean,
    started: number,
    quiet = false,
    error?: string,
  ): void {
    const { type } = urnParts(urn);
    const step: StepRecord = {
      op,
      urn,
      type,
      keys,
      diffs,
      detail,
      ok,
      seconds: (Date.now() - started) / 1000,
      ...(error !== undefined && { error }),
    };
    this.steps.push(step);
    if (!quiet || !ok) this.o.log(formatStep(step, this.preview));
  }
}

type RequestBase = {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly preview: boolean;
  readonly config: ProviderConfig;
};

export function packageOf(type: string): string {
  const parts = type.split(":");
  return parts[0] === "pulumi" && parts[1] === "providers" ? (parts[2] ?? "") : (parts[0] ?? "");
}

const SYMBOL: Record<StepRecord["op"], string> = {
  same: " ",
  create: "+",
  update: "~",
  replace: "+-",
  delete: "-",
  read: ">",
  refresh: "~",
  "delete-replaced": "--",
};

export function formatStep(s: StepRecord, preview: boolean): string {
  const { name } = urnParts(s.urn);
  const what = `${SYMBOL[s.op]} ${s.type} ${name}`;
  const keys = s.keys.length > 0 ? ` [replace: ${s.keys.join(", ")}]` : "";
  const diffs = s.op !== "replace" && s.diffs.length > 0 ? ` [diff: ${s.diffs.join(", ")}]` : "";
  const status = preview
    ? ""
    : s.ok
      ? ` (${s.op === "same" ? "unchanged" : `${s.seconds.toFixed(1)} s`})`
      : ` FAILED: ${s.error ?? ""}`;
  const detail = preview && s.detail.length > 0 ? s.detail.map((d) => `\n      ${d}`).join("") : "";
  return `  ${what}${keys}${diffs}${status}${detail}`;
}

/** The changed paths of a diff, each with its new value unknown where a preview cannot know it. */
function describe(paths: Readonly<Record<string, string>>, news: Props): string[] {
  return Object.entries(paths).map(([path, kind]) => {
    const top = news[path.split(/[.[]/)[0] ?? ""];
    const unknown = containsUnknown(top);
    return `${kind.startsWith("delete") ? "-" : kind.startsWith("add") ? "+" : "~"} ${path}${unknown ? ": (unknown until up)" : ""}`;
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function randomHex(): string {
  return Math.random().toString(16).slice(2, 10).padEnd(8, "0");
}
