// The words pulumi-command v1.2.1 (Go) puts in its errors, rebuilt in TypeScript so a stand-in's
// failures read as the provider's do: Go's %q, the ssh exit message of golang.org/x/crypto/ssh
// v0.48.0 (the version provider/go.mod pins), os/exec's exit and signal texts, and the errno
// texts of Go's syscall package.

/**
 * Go's strconv.Quote (what `%q` prints): backslash escapes for `"` and `\`, the C escapes, \xNN
 * for other ASCII controls, \uNNNN / \UNNNNNNNN for runes unicode.IsPrint rejects.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") {
      out += `\\${ch}`;
      continue;
    }
    if (isGoPrint(ch)) {
      out += ch;
      continue;
    }
    const simple = C_ESCAPES[ch];
    if (simple) out += simple;
    else if (r < 0x20 || r === 0x7f) out += `\\x${r.toString(16).padStart(2, "0")}`;
    // A lone UTF-16 surrogate is not a valid rune: Go would see U+FFFD.
    else if (r >= 0xd800 && r <= 0xdfff) out += "\\ufffd";
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, "0")}`;
    else out += `\\U${r.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

const C_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrint(ch: string): boolean {
  return ch === " " || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** x/crypto/ssh session.go `signals`: the names an exit-signal's status is 128 + n for. */
const SSH_SIGNALS: Record<string, number> = {
  ABRT: 6,
  ALRM: 14,
  FPE: 8,
  HUP: 1,
  ILL: 4,
  INT: 2,
  KILL: 9,
  PIPE: 13,
  QUIT: 3,
  SEGV: 11,
  TERM: 15,
};

/**
 * x/crypto/ssh session.go Waitmsg.String via ExitError, the status part of a failed remote run:
 * "Process exited with status N", or for a signal without a status (Session.wait) status 128 + its
 * number and " from signal S".
 */
export function sshExitText(exit: { status: number } | { signal: string }): string {
  if ("status" in exit) return `Process exited with status ${exit.status}`;
  return `Process exited with status ${128 + (SSH_SIGNALS[exit.signal] ?? 0)} from signal ${exit.signal}`;
}

/** x/crypto/ssh session.go ExitMissingError: the channel closed with neither. */
export const SSH_EXIT_MISSING = "wait: remote command exited without exit status or exit signal";

/** Go's syscall.Signal.String() on Linux (zerrors_linux signal table), by Node's signal name. */
const GO_SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
  SIGSTKFLT: "stack fault",
  SIGCHLD: "child exited",
  SIGCONT: "continued",
  SIGSTOP: "stopped (signal)",
  SIGTSTP: "stopped",
  SIGTTIN: "stopped (tty input)",
  SIGTTOU: "stopped (tty output)",
  SIGURG: "urgent I/O condition",
  SIGXCPU: "CPU time limit exceeded",
  SIGXFSZ: "file size limit exceeded",
  SIGVTALRM: "virtual timer expired",
  SIGPROF: "profiling timer expired",
  SIGWINCH: "window changed",
  SIGIO: "I/O possible",
  SIGPWR: "power failure",
  SIGSYS: "bad system call",
};

/** os/exec ExitError.Error() = os.ProcessState.String(): "exit status N" or "signal: S". */
export function localExitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${GO_SIGNAL_TEXT[signal] ?? signal}`;
  return `exit status ${code ?? -1}`;
}

/** syscall.Errno.Error() on Linux for the errors a dial or an exec meets. */
const GO_ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  ECONNREFUSED: "connection refused",
  EACCES: "permission denied",
  ENOTSOCK: "socket operation on non-socket",
  ENOTDIR: "not a directory",
  EINVAL: "invalid argument",
  ELOOP: "too many levels of symbolic links",
  EPROTOTYPE: "protocol wrong type for socket",
  ENAMETOOLONG: "file name too long",
  EAGAIN: "resource temporarily unavailable",
  EISDIR: "is a directory",
  ENOEXEC: "exec format error",
};

export function goErrnoText(e: NodeJS.ErrnoException): string {
  return (e.code && GO_ERRNO_TEXT[e.code]) ?? e.message;
}
