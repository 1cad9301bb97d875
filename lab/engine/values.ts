// Property values as they cross the wire between a Pulumi program and the engine: plain JSON,
// with a secret wrapped as { <sig key>: <secret sig>, value } and an unknown (a value only an
// `up` will know) as a sentinel string. The engine keeps inputs and outputs in this form, so what
// it compares and saves is exactly what the SDK sent.
// Signatures: @pulumi/pulumi runtime/rpc.js (specialSigKey, specialSecretSig, unknownValue).

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export type Props = Record<string, Value>;

export function isSecret(v: Value | undefined): v is { [key: string]: Value } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && v[SIG_KEY] === SECRET_SIG;
}

export function secret(v: Value): Value {
  return isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

/** The value inside every secret wrapper, deeply. */
export function reveal(v: Value): Value {
  if (isSecret(v)) return reveal(v.value ?? null);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, reveal(x)]));
  }
  return v;
}

export function containsUnknown(v: Value | undefined): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (typeof v === "object" && v !== null) return Object.values(v as Props).some(containsUnknown);
  return false;
}

export function containsSecret(v: Value | undefined): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (typeof v === "object" && v !== null) return Object.values(v as Props).some(containsSecret);
  return false;
}

/**
 * Deep equality. A secret equals only a secret with an equal value — pulumi/pulumi
 * sdk/go/common/resource/properties_diff.go DeepEquals — unless `revealed`, as in the engine's
 * own diff, which unwraps secrets first (step_generator.go unwrapResourceSecretsAndOutputs).
 * null and a missing key are the same (PropertyValue.HasValue).
 */
export function deepEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (typeof a === "object") {
    if (typeof b !== "object" || Array.isArray(b)) return false;
    if (isSecret(a) !== isSecret(b)) return false;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => deepEqual(a[k], b[k]));
  }
  return a === b;
}

export type DiffKind = "add" | "delete" | "update";
/** Property path → kind, as plugin.NewDetailedDiffFromObjectDiff names them: a, a.b, a[0]. */
export type DetailedDiff = Record<string, DiffKind>;

/**
 * The changes from `olds` to `news`, per property path: arrays element by element, objects key
 * by key, anything else (secrets too) as a whole — properties_diff.go ObjectDiff/ValueDiff.
 */
export function detailedDiff(olds: Props, news: Props): DetailedDiff {
  const out: DetailedDiff = {};
  diffInto(olds, news, "", out);
  return out;
}

function join(prefix: string, key: string | number): string {
  if (typeof key === "number") return `${prefix}[${key}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${prefix}[${JSON.stringify(key)}]`;
  return prefix ? `${prefix}.${key}` : key;
}

function present(v: Value | undefined): boolean {
  return v !== undefined && v !== null;
}

function diffInto(olds: Props, news: Props, prefix: string, out: DetailedDiff): void {
  const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
  for (const k of keys) diffValue(olds[k], news[k], join(prefix, k), out);
}

function diffValue(a: Value | undefined, b: Value | undefined, path: string, out: DetailedDiff) {
  if (!present(a) && !present(b)) return;
  if (!present(a)) {
    out[path] = "add";
    return;
  }
  if (!present(b)) {
    out[path] = "delete";
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= a.length) out[p] = "add";
      else if (i >= b.length) out[p] = "delete";
      else diffValue(a[i], b[i], p, out);
    }
    return;
  }
  const plainObject = (v: Value | undefined): v is Props =>
    typeof v === "object" && v !== null && !Array.isArray(v) && !isSecret(v);
  if (plainObject(a) && plainObject(b)) {
    diffInto(a, b, path, out);
    return;
  }
  if (!deepEqual(a, b)) out[path] = "update";
}

/** The top-level keys a detailed diff touches. */
export function changedKeys(diff: Readonly<Record<string, string>>): string[] {
  return [...new Set(Object.keys(diff).map((p) => parsePath(p)[0] as string))].sort();
}

// Property paths: a, a.b, a[0], a["k"], a[*], * — properties_path.go parsePropertyPath.
export type PathElement = string | number;

export function parsePath(path: string): PathElement[] {
  const out: PathElement[] = [];
  const re = /\[(\d+|\*|"(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < path.length && (m = re.exec(path)) !== null) {
    at = re.lastIndex;
    if (m[1] !== undefined) {
      const inner = m[1];
      out.push(
        /^\d+$/.test(inner) ? Number(inner) : inner === "*" ? "*" : (JSON.parse(inner) as string),
      );
    } else if (m[2] !== undefined) out.push(m[2]);
  }
  if (at !== path.length) throw new Error(`invalid property path ${JSON.stringify(path)}`);
  return out;
}

/** P contains Q when P is a prefix of Q, `*` matching any one element (PropertyPath.Contains). */
export function pathContains(p: readonly PathElement[], q: readonly PathElement[]): boolean {
  if (q.length < p.length) return false;
  return p.every((e, i) => e === "*" || e === q[i]);
}

/**
 * ignoreChanges: each path of `news` takes its value from `olds` (or is removed when `olds` has
 * none) — step_generator.go processIgnoreChanges via PropertyPath.Reset. A path that cannot be
 * reset (an added or removed element) is left alone and reported.
 */
export function resetPaths(
  olds: Props,
  news: Props,
  paths: readonly string[],
): { props: Props; skipped: string[] } {
  let props = structuredClone(news);
  const skipped: string[] = [];
  for (const path of paths) {
    const parsed = parsePath(path);
    const next = resetOne(olds, props, parsed);
    if (next === undefined) skipped.push(path);
    else props = next;
  }
  return { props, skipped };
}

function resetOne(olds: Value, news: Value, path: PathElement[]): Props | undefined {
  // Walk both trees in step; `*` resets every element present on both sides.
  const walk = (
    o: Value | undefined,
    n: Value | undefined,
    rest: PathElement[],
  ): Value | undefined => {
    if (rest.length === 0) return o === undefined ? undefined : structuredClone(o);
    const [head, ...tail] = rest;
    if (head === "*") {
      if (Array.isArray(o) && Array.isArray(n)) {
        if (o.length !== n.length) return undefined;
        const out = n.map((x, i) => walk(o[i], x, tail));
        return out.some((x) => x === undefined && tail.length > 0) ? undefined : (out as Value[]);
      }
      if (isPlain(o) && isPlain(n)) {
        const out: Props = { ...n };
        for (const k of Object.keys(n)) {
          const v = walk(o[k], n[k], tail);
          if (v === undefined) delete out[k];
          else out[k] = v;
        }
        return out;
      }
      return undefined;
    }
    if (typeof head === "number") {
      if (!Array.isArray(o) || !Array.isArray(n) || head >= o.length || head >= n.length) {
        return undefined;
      }
      const out = [...n];
      const v = walk(o[head], n[head], tail);
      if (v === undefined) return undefined;
      out[head] = v;
      return out;
    }
    if (!isPlain(n) || (o !== undefined && o !== null && !isPlain(o))) return undefined;
    const oldChild = isPlain(o) ? o[head as string] : undefined;
    const out: Props = { ...n };
    if (tail.length === 0) {
      if (oldChild === undefined) delete out[head as string];
      else out[head as string] = structuredClone(oldChild);
      return out;
    }
    if (n[head as string] === undefined) return undefined;
    const v = walk(oldChild, n[head as string], tail);
    if (v === undefined) return undefined;
    out[head as string] = v;
    return out;
  };
  const result = walk(olds, news, path);
  return isPlain(result) ? result : undefined;
}

function isPlain(v: Value | undefined): v is Props {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isSecret(v);
}
