// A line diff for drift reports: what the node had when its push was confirmed (-) against
// what it has now (+). Longest common subsequence, which is plenty for a few hundred lines.

export interface DiffLine {
  readonly op: "-" | "+" | " ";
  readonly text: string;
}

export function diffLines(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  // lcs[i][j]: the longest common subsequence of before[i..] and after[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        before[i] === after[j]
          ? lcs[i + 1]![j + 1]! + 1
          : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push({ op: " ", text: before[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: "-", text: before[i++]! });
    } else {
      out.push({ op: "+", text: after[j++]! });
    }
  }
  while (i < n) out.push({ op: "-", text: before[i++]! });
  while (j < m) out.push({ op: "+", text: after[j++]! });
  return out;
}

/**
 * The changed lines with `context` unchanged lines around each run of changes, and `…` where
 * unchanged lines are left out; empty when nothing changed.
 */
export function unifiedLines(
  before: readonly string[],
  after: readonly string[],
  context = 2,
): string[] {
  const lines = diffLines(before, after);
  const near = lines.map((_, k) =>
    lines.slice(Math.max(0, k - context), k + context + 1).some((l) => l.op !== " "),
  );
  if (!lines.some((l) => l.op !== " ")) return [];
  const out: string[] = [];
  let skipped = false;
  lines.forEach((l, k) => {
    if (!near[k]) {
      skipped = true;
      return;
    }
    if (skipped && out.length > 0) out.push("…");
    skipped = false;
    out.push(`${l.op} ${l.text}`);
  });
  return out;
}
