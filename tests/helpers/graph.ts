// The depth of a resource graph: the longest chain of resources that wait on one another,
// from the dependencies each registration declared.
import type { Registered } from "./mocks";

export function graphDepth(resources: readonly Registered[]): number {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, number>();
  const depth = (urn: string, trail: Set<string>): number => {
    const known = memo.get(urn);
    if (known !== undefined) return known;
    if (trail.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    trail.add(urn);
    const r = byUrn.get(urn);
    const below = (r?.dependencies ?? []).filter((d) => byUrn.has(d)).map((d) => depth(d, trail));
    trail.delete(urn);
    const d = 1 + Math.max(0, ...below);
    memo.set(urn, d);
    return d;
  };
  return Math.max(0, ...resources.filter((r) => r.custom).map((r) => depth(r.urn, new Set())));
}
