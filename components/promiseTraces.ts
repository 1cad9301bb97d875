// The Pulumi SDK gives every promise behind every resource output a stack trace
// (runtime/debuggable.js: four promises per output property, about 133,000 at 254 nodes), and
// reads them only to print leaked promises when PULUMI_DEBUG_PROMISE_LEAKS is set. Each trace
// is formatted at once, and under ts-node or tsx each frame is source-mapped: at 254 nodes that
// was 37% of the program's CPU time, and the traces held about 135 MB until the program ended.
// Resource source positions are not traces of this kind: the SDK sets its own limit for them.

/** The variable under which the SDK prints its promises' traces, and this keeps them. */
const DEBUG_VARIABLE = "PULUMI_DEBUG_PROMISE_LEAKS";

/**
 * Runs `declare` with stack traces turned off, unless the SDK's promise traces were asked for.
 * An error thrown meanwhile keeps its message and loses its frames; with
 * PULUMI_DEBUG_PROMISE_LEAKS=1 it keeps them too.
 */
export function withoutPromiseTraces<T>(declare: () => T): T {
  if (process.env[DEBUG_VARIABLE]) return declare();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return declare();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
