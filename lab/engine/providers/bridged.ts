// The diff of a provider bridged from Terraform (aws, cloudflare, random, vultr): a change of a
// field the schema marks ForceNew replaces, any other change of a set input updates in place.
// Secret-ness alone is no change: the plan compares values. Each provider lists its ForceNew
// fields from its upstream schema.
import type { DiffResult, DetailedKind } from "../provider";
import { changedKeys, detailedDiff, reveal, type Props } from "../values";

export function bridgedDiff(olds: Props, news: Props, forceNew: readonly string[]): DiffResult {
  const paths = detailedDiff(reveal(olds) as Props, reveal(news) as Props);
  if (Object.keys(paths).length === 0) return { changes: "none" };
  // A ForceNew field may be nested (rootBlockDevice.encrypted): it covers the paths under it.
  const forces = (path: string) =>
    forceNew.some((f) => path === f || path.startsWith(`${f}.`) || path.startsWith(`${f}[`));
  const detailed: Record<string, DetailedKind> = {};
  const replaceKeys = new Set<string>();
  for (const [path, kind] of Object.entries(paths)) {
    const replace = forces(path);
    detailed[path] = replace ? (`${kind}-replace` as DetailedKind) : kind;
    if (replace) replaceKeys.add(changedKeys({ [path]: kind })[0] ?? path);
  }
  return { changes: "some", replaceKeys: [...replaceKeys].sort(), detailedDiff: detailed };
}

/** Outputs of a bridged resource in a preview: the inputs, and the computed fields unknown. */
export function previewOutputs(inputs: Props, computed: readonly string[]): Props {
  const out: Record<string, Props[string]> = { ...inputs };
  for (const key of computed)
    if (out[key] === undefined) out[key] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  return out;
}
