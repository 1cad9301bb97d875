// Whether a node still runs what the program renders for it. Two facts make the chain:
// - the digest the node recorded when its last push was confirmed equals the bundle's digest
//   the program renders now (bundleHash): the files that push installed are the rendered ones;
// - the live state now (sshd -T, the project's nft table, wg showconf without keys, the digests
//   of the managed files) equals the live state recorded at that confirmation, printed by the
//   node's own tools: nothing was changed by hand since.
// Comparing live state with itself keeps the node's tool versions out of it (sshd -T of one
// OpenSSH prints options another does not know), and needs no root on the operator's side.
import { unifiedLines } from "./diff";
import type { NodeState } from "./state";

export interface Finding {
  /** What differs: `bundle`, `sshd -T`, `nft list table inet clawd_mesh`, `files`… */
  readonly what: string;
  /** A sentence, or diff lines (`- ` recorded at the confirmation, `+ ` now). */
  readonly detail: readonly string[];
}

export type NodeDrift =
  | { readonly node: string; readonly kind: "clean" }
  | { readonly node: string; readonly kind: "drifted"; readonly findings: readonly Finding[] }
  | { readonly node: string; readonly kind: "unreachable"; readonly reason: string };

export function compareNode(node: string, expectedDigest: string, state: NodeState): NodeDrift {
  const findings: Finding[] = [];
  if (state.pending) {
    findings.push({
      what: "push",
      detail: [
        `push ${state.pending} is waiting for its confirmation; it is kept or rolled back within the rollback window`,
      ],
    });
  }
  if (!state.digest) {
    findings.push({
      what: "bundle",
      detail: [
        "no confirmed push is recorded on the node (it was pushed before clawd-mesh recorded its pushes)",
      ],
    });
  } else if (state.digest !== expectedDigest) {
    findings.push({
      what: "bundle",
      detail: [
        `the node's last confirmed push installed bundle ${state.digest}; the program renders ${expectedDigest}`,
      ],
    });
  }
  if (state.recorded.size > 0) {
    const titles = [...new Set([...state.recorded.keys(), ...state.live.keys()])];
    for (const title of titles) {
      const before = state.recorded.get(title) ?? [];
      const after = state.live.get(title) ?? [];
      const detail = title === "files" ? fileChanges(before, after) : unifiedLines(before, after);
      if (detail.length > 0) findings.push({ what: title, detail });
    }
  }
  return findings.length === 0 ? { node, kind: "clean" } : { node, kind: "drifted", findings };
}

/** `sha256sum` lines to `changed|added|removed: <path>`: digests say nothing to a reader. */
export function fileChanges(before: readonly string[], after: readonly string[]): string[] {
  const parse = (lines: readonly string[]) =>
    new Map(
      lines.map((l) => {
        const m = /^([0-9a-f]+)\s+(.*)$/.exec(l);
        return m ? [m[2] as string, m[1] as string] : [l, ""];
      }),
    );
  const was = parse(before);
  const now = parse(after);
  const paths = [...new Set([...was.keys(), ...now.keys()])].sort();
  return paths.flatMap((p) => {
    if (!now.has(p)) return [`removed: ${p}`];
    if (!was.has(p)) return [`added: ${p}`];
    return was.get(p) === now.get(p) ? [] : [`changed: ${p}`];
  });
}
