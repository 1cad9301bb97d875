// Small helpers shared by the checks: a problem sink and the recurring word-level rules.
import { suggestion, type Problem } from "./problems";

export class Report {
  readonly problems: Problem[] = [];

  add(path: string, value: unknown, message: string, fix: string): void {
    this.problems.push({ path, value, message, fix });
  }

  /** Reports a word outside its vocabulary; returns whether the word is known. */
  oneOf<T extends string>(
    path: string,
    value: string,
    known: readonly T[],
    what: string,
  ): value is T {
    if ((known as readonly string[]).includes(value)) return true;
    this.add(
      path,
      value,
      `is not a known ${what}`,
      suggestion(value, known) ?? `use one of: ${known.join(", ")}`,
    );
    return false;
  }

  port(path: string, value: number): boolean {
    if (Number.isInteger(value) && value >= 1 && value <= 65535) return true;
    this.add(path, value, "is not a port number", "use a whole number from 1 to 65535");
    return false;
  }
}

export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

export function isDomainName(text: string): boolean {
  return text.length <= 253 && text.split(".").every(isDnsLabel) && text.includes(".");
}

export const DNS_LABEL_FIX =
  "use 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen";

export function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}
