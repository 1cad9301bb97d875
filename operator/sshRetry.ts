// The dial retry of pulumi-command v1.2.1, remote/connection.go dialWithRetry, on the loop of
// pulumi's sdk/go/common/util/retry/until.go (v3.224.0) with its defaults: 100 ms before the
// second attempt, ×1.5 after each wait, never more than 5 s.

/** retry.DefaultDelay, DefaultBackoff, DefaultMaxDelay. */
export const RETRY = { delayMs: 100, backoff: 1.5, maxDelayMs: 5000 } as const;

/** dialWithRetry's final error, before the caller's `proxy: ` prefix. */
export class RetriesExhausted extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface RetryDeps {
  /** Waits; rejects when the caller's deadline (the provider's context) ends first. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

/**
 * One dialWithRetry loop, driven from outside: the caller makes an attempt and reports each
 * failure to `failed`, which either waits out the backoff or throws. A stepwise loop lets the
 * proxy path run the provider's two loops on the target ("Dial from proxy", then "Dial") from
 * one sequence of attempts.
 */
export class DialRetry {
  /** until.go: `try` starts at 0 and counts attempts made before this one. */
  private try = 0;
  private delayMs: number = RETRY.delayMs;

  constructor(
    readonly msg: string,
    /** dialErrorLimit: -1 (or less) is unlimited, 0 allows one attempt, N allows N+1. */
    readonly limit: number,
    private readonly deps: RetryDeps,
  ) {}

  /** Attempts made so far, this one included once it is reported. */
  get attempts(): number {
    return this.try + 1;
  }

  async failed(err: string): Promise<void> {
    // connection.go dialWithRetry: dials = try+1; reachedDialingErrorLimit(dials, limit) is
    // `limit > -1 && dials > limit`; the message counts `try`, i.e. the limit itself.
    const dials = this.try + 1;
    if (this.limit > -1 && dials > this.limit) {
      throw new RetriesExhausted(`after ${this.try} failed attempts: ${err}`, dials);
    }
    // connection.go: InfoStatusf("%s %d/%s failed: retrying"), "inf" only for exactly -1.
    this.deps.log?.(
      `${this.msg} ${dials}/${this.limit === -1 ? "inf" : String(this.limit)} failed: retrying`,
    );
    // until.go Until: the delay is capped before use, then multiplied after the wait.
    const wait = Math.min(this.delayMs, RETRY.maxDelayMs);
    await this.deps.sleep(wait);
    this.delayMs = wait * RETRY.backoff;
    this.try++;
  }
}

/** dialWithRetry over one attempt function: the attempt's value, or RetriesExhausted. */
export async function dialWithRetry<T>(
  msg: string,
  limit: number,
  attempt: () => Promise<{ ok: true; value: T } | { ok: false; error: string }>,
  deps: RetryDeps,
): Promise<T> {
  const retry = new DialRetry(msg, limit, deps);
  for (;;) {
    const r = await attempt();
    if (r.ok) return r.value;
    await retry.failed(r.error);
  }
}

/** The waits dialWithRetry makes before giving up, for a limit ≥ 0: limit of them. */
export function backoffSchedule(limit: number): number[] {
  const waits: number[] = [];
  let delay: number = RETRY.delayMs;
  for (let i = 0; i < limit; i++) {
    const wait = Math.min(delay, RETRY.maxDelayMs);
    waits.push(wait);
    delay = wait * RETRY.backoff;
  }
  return waits;
}
