// Which step a registration becomes, decided as pulumi/pulumi's step generator decides it
// (pkg/resource/deploy/step_generator.go, read at 1b5949891b): pure functions over the goal, the
// old state and the provider's diff, so the rules are tested as a table.
import type { DetailedKind, DiffResult } from "./provider";
import type { ResourceState } from "./state";
import {
  changedKeys,
  deepEqual,
  detailedDiff,
  parsePath,
  pathContains,
  reveal,
  type Props,
} from "./values";

/** A resource as the program declares it in this run. */
export interface Goal {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string;
  readonly provider: string;
  readonly inputs: Props;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  /** undefined: not set, the provider decides (source_eval.go: deleteBeforeReplaceDefined). */
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  /** Names this resource may have had, as the SDK sends them (alias specs). */
  readonly aliases: readonly AliasSpec[];
}

/** An alias: a whole URN, or the parts that differ (blank parts are the resource's own). */
export type AliasSpec =
  | { readonly urn: string }
  | {
      readonly name?: string;
      readonly type?: string;
      readonly project?: string;
      readonly stack?: string;
      readonly parentUrn?: string;
      readonly noParent?: boolean;
    };

export type Decision =
  | { readonly op: "create" }
  | { readonly op: "same" }
  | { readonly op: "update"; readonly diffs: readonly string[]; readonly paths: Paths }
  | {
      readonly op: "replace";
      readonly deleteBeforeReplace: boolean;
      readonly keys: readonly string[];
      readonly diffs: readonly string[];
      readonly paths: Paths;
    }
  | { readonly op: "protected-replace"; readonly keys: readonly string[] };

/** Changed property paths and what each change is. */
export type Paths = Readonly<Record<string, DetailedKind>>;

/**
 * The diff the engine acts on: the provider's, or — when the provider has none (DiffUnknown) —
 * the engine's own comparison of old and new inputs with secrets unwrapped, keeping whatever
 * replace keys and delete-before-replace the provider did say (diffResource).
 */
export function effectiveDiff(olds: Props, news: Props, provider: DiffResult): DiffResult {
  if (provider.changes !== "unknown") return provider;
  const paths = detailedDiff(reveal(olds) as Props, reveal(news) as Props);
  const some = Object.keys(paths).length > 0;
  return {
    ...provider,
    changes: some ? "some" : "none",
    detailedDiff: some ? paths : {},
  };
}

/**
 * replaceOnChanges turns changes under its paths into replacements; it never makes a change
 * where the diff has none (applyReplaceOnChanges; PropertyPath.Contains). `triggers[*]` matches
 * `triggers[0]` but not the property `triggers` as a whole.
 */
export function applyReplaceOnChanges(diff: DiffResult, paths: readonly string[]): DiffResult {
  if (diff.changes !== "some" || paths.length === 0) return diff;
  const roc = paths.map(parsePath);
  const detailed: Record<string, DetailedKind> = { ...(diff.detailedDiff ?? {}) };
  const replaceKeys = new Set(diff.replaceKeys ?? []);
  for (const [path, kind] of Object.entries(detailed)) {
    const parsed = parsePath(path);
    if (roc.some((p) => pathContains(p, parsed)) && !kind.endsWith("-replace")) {
      detailed[path] = `${kind}-replace` as DetailedKind;
    }
  }
  for (const key of changedKeys(diff.detailedDiff ?? {})) {
    if (roc.some((p) => pathContains(p, [key]))) replaceKeys.add(key);
  }
  return { ...diff, detailedDiff: detailed, replaceKeys: [...replaceKeys].sort() };
}

function replaces(diff: DiffResult): boolean {
  return (
    (diff.replaceKeys ?? []).length > 0 ||
    Object.values(diff.detailedDiff ?? {}).some((k) => k.endsWith("-replace"))
  );
}

/**
 * The step for a registration of a custom resource with old state `old` (continueStepsFromDiff):
 * no change is `same`, a change is `update`, a change the diff calls a replacement is a
 * replacement — refused while both old and new are protected.
 */
export function decide(goal: Goal, old: ResourceState | undefined, diff: DiffResult): Decision {
  if (!old) return { op: "create" };
  const roc = applyReplaceOnChanges(diff, goal.replaceOnChanges);
  const paths = roc.detailedDiff ?? {};
  const diffs = changedKeys(paths);
  if (old.pendingReplacement) {
    // An interrupted delete-before-replace: only the create is left (rule 29).
    return { op: "replace", deleteBeforeReplace: true, keys: [], diffs, paths };
  }
  if (roc.changes !== "some") return { op: "same" };
  if (!replaces(roc)) return { op: "update", diffs, paths };
  const keys = [...(roc.replaceKeys ?? [])];
  if (goal.protect && old.protect) return { op: "protected-replace", keys };
  const deleteBeforeReplace = goal.deleteBeforeReplace ?? roc.deleteBeforeReplace ?? false;
  return { op: "replace", deleteBeforeReplace, keys, diffs, paths };
}

/** A component has no provider: any change of its inputs is an update (sg.diff, no provider). */
export function decideComponent(goal: Goal, old: ResourceState | undefined): Decision {
  if (!old) return { op: "create" };
  if (deepEqual(old.inputs, goal.inputs)) return { op: "same" };
  const paths = detailedDiff(old.inputs, goal.inputs);
  return { op: "update", diffs: changedKeys(paths), paths };
}

/** URNs: urn:pulumi:<stack>::<project>::<parent type$>type::<name> (generateURN). */
export function urnOf(
  stack: string,
  project: string,
  type: string,
  name: string,
  parentUrn: string,
): string {
  const parentType = parentUrn ? (parentUrn.split("::")[2] ?? "") : "";
  const qualified =
    parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/**
 * The old URNs a registration may match, in order (generateAliases, collapseAliasToUrn,
 * inheritedChildAlias): its own alias specs, then — when its parent was itself found under an
 * old URN — the same names under the parent's old URN, a child name that starts with the
 * parent's name taking the parent's old name instead.
 */
export function aliasUrns(
  goal: Pick<Goal, "name" | "type" | "parent" | "aliases">,
  stack: string,
  project: string,
  parentOldUrn: (parent: string) => string | undefined,
): string[] {
  const out: string[] = [];
  const add = (u: string) => {
    if (!out.includes(u)) out.push(u);
  };
  const collapse = (a: AliasSpec): string => {
    if ("urn" in a) return a.urn;
    let parent = a.parentUrn ?? "";
    if (!parent) parent = goal.parent;
    else parent = parentOldUrn(parent) ?? parent;
    if (a.noParent || urnParts(parent).qualifiedType === "pulumi:pulumi:Stack") parent = "";
    return urnOf(
      a.stack || stack,
      a.project || project,
      a.type || goal.type,
      a.name || goal.name,
      parent,
    );
  };
  for (const a of goal.aliases) add(collapse(a));
  const parentAlias = goal.parent ? parentOldUrn(goal.parent) : undefined;
  if (goal.parent && parentAlias) {
    const parentName = urnParts(goal.parent).name;
    const inherited = (type: string, name: string) => {
      const aliasName = name.startsWith(parentName)
        ? urnParts(parentAlias).name + name.slice(parentName.length)
        : name;
      const parentType = urnParts(parentAlias).qualifiedType;
      const qualified = parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
      return `urn:pulumi:${stack}::${project}::${qualified}::${aliasName}`;
    };
    add(inherited(goal.type, goal.name));
    for (const a of goal.aliases) {
      const child = urnParts(collapse(a));
      add(inherited(child.type, child.name));
    }
  }
  return out;
}

/** The name and type parts of a URN. */
export function urnParts(urn: string): { type: string; name: string; qualifiedType: string } {
  const parts = urn.split("::");
  const qualifiedType = parts[2] ?? "";
  return {
    qualifiedType,
    type: qualifiedType.split("$").pop() ?? "",
    name: parts.slice(3).join("::"),
  };
}

/**
 * Resources in `condemned` ordered for deletion: whatever depends on another (as its child, by a
 * dependency, or through its provider) is deleted before it; each batch may run at once
 * (ScheduleDeletes: antichains of DependenciesOf, reversed).
 */
export function deleteBatches(condemned: readonly ResourceState[]): ResourceState[][] {
  const byUrn = new Map<string, ResourceState[]>();
  for (const r of condemned) byUrn.set(r.urn, [...(byUrn.get(r.urn) ?? []), r]);
  const dependsOn = (r: ResourceState): string[] =>
    [
      r.parent,
      ...r.dependencies,
      ...Object.values(r.propertyDependencies).flat(),
      r.provider.split("::").slice(0, -1).join("::"),
    ].filter((u) => u && u !== r.urn && byUrn.has(u));
  // Depth from the bottom: a resource nothing condemned depends on goes first.
  const dependents = new Map<string, ResourceState[]>();
  for (const r of condemned) {
    for (const u of dependsOn(r)) dependents.set(u, [...(dependents.get(u) ?? []), r]);
  }
  const level = new Map<ResourceState, number>();
  const depth = (r: ResourceState, seen: Set<ResourceState>): number => {
    const known = level.get(r);
    if (known !== undefined) return known;
    if (seen.has(r)) return 0;
    seen.add(r);
    const above = (dependents.get(r.urn) ?? []).map((d) => depth(d, seen) + 1);
    const l = Math.max(0, ...above);
    level.set(r, l);
    return l;
  };
  const batches: ResourceState[][] = [];
  for (const r of condemned) {
    const l = depth(r, new Set());
    (batches[l] ??= []).push(r);
  }
  return batches.filter(Boolean);
}
