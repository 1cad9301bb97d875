// The fleet is declared without stack traces (the SDK's per-promise traces were a third of the
// program's time at 254 nodes), and every trace comes back afterwards or on request.
import { withoutPromiseTraces } from "../../components/promiseTraces";

const frames = () => (new Error().stack ?? "").split("\n").length - 1;

afterEach(() => delete process.env.PULUMI_DEBUG_PROMISE_LEAKS);

test("no frames while declaring, the limit as it was afterwards", () => {
  const before = Error.stackTraceLimit;
  expect(withoutPromiseTraces(frames)).toBe(0);
  expect(Error.stackTraceLimit).toBe(before);
  expect(frames()).toBeGreaterThan(0);
});

test("an error thrown while declaring keeps its message, and the limit is restored", () => {
  const before = Error.stackTraceLimit;
  expect(() =>
    withoutPromiseTraces(() => {
      throw new Error("nodes: the management paths loop (a -> b -> a)");
    }),
  ).toThrow("nodes: the management paths loop (a -> b -> a)");
  expect(Error.stackTraceLimit).toBe(before);
});

test("PULUMI_DEBUG_PROMISE_LEAKS keeps every trace", () => {
  process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
  expect(withoutPromiseTraces(frames)).toBeGreaterThan(0);
});
