// A problem names where (path), what was found (value) and what to do (fix). Validation
// collects every problem and throws once, so an operator fixes a stack file in one pass.
import type { z } from "zod";

export interface Problem {
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
  readonly fix: string;
}

export function formatProblem(p: Problem): string {
  const value = p.value === undefined ? "(missing)" : JSON.stringify(p.value);
  return `${p.path} = ${value}: ${p.message}. Fix: ${p.fix}.`;
}

export class FleetValidationError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const lines = problems.map((p, i) => `  ${i + 1}. ${formatProblem(p)}`);
    const noun = problems.length === 1 ? "problem" : "problems";
    super(`The fleet spec has ${problems.length} ${noun}:\n${lines.join("\n")}`);
    this.name = "FleetValidationError";
    this.problems = problems;
  }
}

export function joinPath(base: string, segments: readonly PropertyKey[]): string {
  return segments.reduce<string>(
    (acc, s) => (typeof s === "number" ? `${acc}[${s}]` : `${acc}.${String(s)}`),
    base,
  );
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let here: unknown = root;
  for (const s of segments) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<PropertyKey, unknown>)[s];
  }
  return here;
}

/** Turns zod's issues for one section into problems with a path, the value and a fix. */
export function fromZodIssues(
  base: string,
  raw: unknown,
  issues: readonly z.core.$ZodIssue[],
  knownKeys: (segments: readonly PropertyKey[]) => readonly string[],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const segments = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(segments);
      return issue.keys.map((key) => ({
        path: joinPath(base, [...segments, key]),
        value: valueAt(raw, [...segments, key]),
        message: "is not a field this program knows",
        fix: suggestion(key, known) ?? `use one of: ${known.join(", ")}`,
      }));
    }
    const value = valueAt(raw, segments);
    const expected = "expected" in issue ? String(issue.expected) : undefined;
    if (issue.code === "invalid_type" && value === undefined) {
      return [
        {
          path: joinPath(base, segments),
          value,
          message: "is required",
          fix: `add it${expected ? ` (${article(expected)})` : ""}`,
        },
      ];
    }
    return [
      {
        path: joinPath(base, segments),
        value,
        message: expected ? `should be ${article(expected)}` : issue.message,
        fix: expected ? `write it as ${article(expected)}` : "see the fleet spec in the README",
      },
    ];
  });
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;
}

/**
 * "did you mean X" for a near miss, else undefined. Short words allow one edit only: among
 * three-letter region codes, two edits reach almost any other code.
 */
export function suggestion(word: string, known: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance))
      best = { word: candidate, distance };
  }
  return best ? `did you mean "${best.word}"?` : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
