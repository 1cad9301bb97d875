// The SSH client of the operator's machine, driving OpenSSH as pulumi-command v1.2.1 drives
// its Go client: the push (cli/push.ts) dials and confirms with it, and the lab's stand-in for
// `command:remote:Command` and `command:local:Command` runs through it (from inside the lab's
// operator namespace). Every rule below cites the provider source it follows (tag v1.2.1,
// paths under provider/pkg/provider/).
//
// Shape of one remote run, as remote/commandOutputs.go run does it:
//   dial   — a control master per hop (`ssh -M -N`), with the provider's retry loop; the
//            master is up once ssh says "Entering interactive session." (after authentication
//            and after its control socket listens);
//   setenv — environment sent on the session; a probe session in the same connection checks
//            what sshd accepted, because OpenSSH's client never asks sshd to confirm;
//   run    — one session through the control socket; never retried;
//   close  — the masters stop and the run's private directory goes (the provider leaks its
//            client; the lab does not share it either: a connection serves exactly one run).
// Only the network namespace is entered: keys, known_hosts, askpass helpers and control sockets
// live in a root-only directory (0700, files 0600) on the real file system, removed afterwards.
// No secret is ever on a command line or in a process environment.
//
// Where OpenSSH cannot be made to act as x/crypto does (kept visible on purpose):
// - a failed dial reads in ssh's words ("Host key verification failed.") where the provider has
//   x/crypto's ("ssh: handshake failed: ssh: host key mismatch"); counts and prefixes are the same;
// - ConnectTimeout (perDialTimeout) also bounds OpenSSH's banner exchange, x/crypto's only the
//   TCP connect;
// - through a proxy, a handshake retry opens a new tunnel; the provider retries on the same one;
// - sshd's acceptance of `environment` is learnt from a probe session (`env`) before the command;
// - a command killed by a signal reads "status 128 from signal UNKNOWN": OpenSSH's client drops
//   the signal's name;
// - the command text is on the session client's command line (ssh needs it there) and the
//   `environment` values (not secret in the provider's schema) in its environment, which only
//   root can read.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import {
  checkPrivateKeyFormat,
  KeyError,
  knownHostsLine,
  parseAuthorizedKey,
  type HostKey,
} from "./sshKeys";
import { DialRetry, dialWithRetry, RetriesExhausted } from "./sshRetry";
import { goErrnoText, goQuote, localExitText, SSH_EXIT_MISSING, sshExitText } from "./sshText";

/** A remote.Command connection as the provider reads it; defaults as the provider applies them. */
export interface SshConnection {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
  hostKey?: string;
  proxy?: Omit<SshConnection, "proxy">;
}

/** Each with ONE trailing "\n" trimmed, as the provider does. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/** For PULUMI_COMMAND_STDOUT/STDERR (addPreviousOutputInEnv). */
export interface Previous {
  stdout: string;
  stderr: string;
}

/**
 * A command that ran and failed (remote/commandOutputs.go and local/commandOutputs.go run:
 * `fmt.Errorf("%w: running %q:\n%s", err, cmd, combined)`): the status text, the command Go-quoted,
 * then stdout and stderr interleaved as they arrived.
 */
export class CommandFailed extends Error {
  constructor(
    readonly status: string,
    readonly command: string,
    readonly combined: string,
    readonly stdout = "",
    readonly stderr = "",
  ) {
    super(`${status}: running ${goQuote(command)}:\n${combined}`);
  }
}

/**
 * The connection could not be made (remote/connection.go Dial and SSHConfig): either a check
 * that fails at once (host key, private key, agent socket) or the retry loop's `after N failed
 * attempts: …`. Errors on the proxy's side are prefixed `proxy: `.
 */
export class DialFailed extends Error {
  constructor(
    message: string,
    /** Dials this run made, over all hops; 0 when a check failed before any. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** sshd refused a variable of `environment` (remote/commandOutputs.go logAndWrapSetenvErr). */
export class SetenvFailed extends Error {}

/**
 * The run's `timeoutMs` ran out (the engine's customTimeouts, a context deadline for the
 * provider). While dialing this is the provider's `ctx.Err()`; once the command runs the lab
 * stops it too, where the provider's session.Run would keep waiting.
 */
export class TimedOut extends Error {}

/** What a remote command carries besides its connection (remote.Command's inputs). */
export interface RemoteInputs {
  command: string;
  stdin?: string;
  environment?: Record<string, string>;
  previous?: Previous;
  addPreviousOutputInEnv?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What a local command carries (local.Command's inputs). */
export interface LocalRequest {
  command: string;
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
  previous?: Previous;
  addPreviousOutputInEnv?: boolean;
  timeoutMs?: number;
}

export interface Transport {
  remote(r: RemoteInputs & { connection: SshConnection }): Promise<RunResult>;
  local(r: LocalRequest): Promise<RunResult>;
}

export interface TransportOptions {
  /** The network namespace the operator's machine is (the lab's); none: this machine. */
  netns?: string;
  env: NodeJS.ProcessEnv;
  counter?: { commands: number };
  /** Where each run's private directory is made (default: the OS temp dir). */
  tmpDir?: string;
}

/**
 * Runs ssh and local commands — from inside the network namespace `netns` when given (the lab's
 * operator machine) — with `env` as the provider process's environment (SSH_AUTH_SOCK may be in
 * it). Every command counts toward `counter` (commands actually executed).
 */
export function sshTransport(o: TransportOptions): Transport {
  const tools = {
    nsenter: o.netns ? which("nsenter", o.env) : "",
    ssh: which("ssh", o.env),
    sshKeygen: which("ssh-keygen", o.env),
  };
  const netnsPath = o.netns ? `/run/netns/${o.netns}` : "";
  const ctx = { ...o, tools, netnsPath };
  return {
    remote: async (r) => new RemoteRun(ctx, r).run(),
    local: (r) => runLocal(ctx, r),
  };
}

type Ctx = TransportOptions & {
  tools: { nsenter: string; ssh: string; sshKeygen: string };
  netnsPath: string;
};
type RemoteRequest = Parameters<Transport["remote"]>[0];

/** util/util.go PulumiCommandStdout / PulumiCommandStderr. */
const PULUMI_COMMAND_STDOUT = "PULUMI_COMMAND_STDOUT";
const PULUMI_COMMAND_STDERR = "PULUMI_COMMAND_STDERR";

/** The previous outputs to export: only when the flag is unset or true, only if non-empty. */
function previousEnv(r: {
  previous?: Previous;
  addPreviousOutputInEnv?: boolean;
}): Record<string, string> {
  // remote/commandOutputs.go run and local/commandOutputs.go run: `AddPreviousOutputInEnv == nil
  // || *AddPreviousOutputInEnv`, then `if c.Stdout != ""` / `if c.Stderr != ""`.
  if (r.addPreviousOutputInEnv === false || !r.previous) return {};
  return {
    ...(r.previous.stdout !== "" && { [PULUMI_COMMAND_STDOUT]: r.previous.stdout }),
    ...(r.previous.stderr !== "" && { [PULUMI_COMMAND_STDERR]: r.previous.stderr }),
  };
}

/** strings.TrimSuffix(buf, "\n"): exactly one trailing LF. */
function trimOne(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

// ---------------------------------------------------------------------------------------------
// Time and processes

/** The run's bound: every child is killed and every wait ends when it runs out. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(ms: number | undefined) {
    if (ms !== undefined) this.timer = setTimeout(() => this.controller.abort(), Math.max(0, ms));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  /** Waits `ms`; rejects with TimedOut if the deadline comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.expired) return reject(new TimedOut("context deadline exceeded"));
      const onAbort = () => {
        clearTimeout(t);
        reject(new TimedOut("context deadline exceeded"));
      };
      const t = setTimeout(() => {
        this.signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      this.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A child with its output captured: each stream, both interleaved, and stderr by line. */
class Proc {
  readonly stdout: Buffer[] = [];
  readonly stderr: Buffer[] = [];
  readonly combined: Buffer[] = [];
  readonly lines: string[] = [];
  readonly exit: Promise<Exit>;
  exited: Exit | undefined;
  private partial = "";
  private readonly lineWaiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcess,
    stdin: string | undefined,
    onDeadline?: { deadline: Deadline; kill: () => void },
    /** Keep stderr by line (ssh masters' logs), not for a command's own output. */
    private readonly byLine = false,
  ) {
    child.stdout?.on("data", (d: Buffer) => {
      this.stdout.push(d);
      this.combined.push(d);
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr.push(d);
      this.combined.push(d);
      if (!this.byLine) return;
      this.partial += d.toString("utf8");
      const parts = this.partial.split("\n");
      this.partial = parts.pop() ?? "";
      if (parts.length > 0) {
        // ssh ends its log lines with "\r\n".
        this.lines.push(...parts.map((l) => l.replace(/\r$/, "")));
        for (const w of this.lineWaiters.splice(0)) w();
      }
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined); // a command that does not read its stdin
      child.stdin.end(stdin ?? "");
    }
    let abort: (() => void) | undefined;
    if (onDeadline) {
      abort = () => onDeadline.kill();
      if (onDeadline.deadline.expired) abort();
      else onDeadline.deadline.signal.addEventListener("abort", abort, { once: true });
    }
    this.exit = new Promise((resolve) => {
      let spawnError: Error | undefined;
      child.on("error", (e) => {
        spawnError = e;
        // A child that never started emits no "close".
        if (child.pid === undefined) finish(null, null);
      });
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return;
        if (this.partial) this.lines.push(this.partial.replace(/\r$/, ""));
        this.partial = "";
        if (abort) onDeadline?.deadline.signal.removeEventListener("abort", abort);
        this.exited = { code, signal, ...(spawnError && { error: spawnError }) };
        for (const w of this.lineWaiters.splice(0)) w();
        resolve(this.exited);
      };
      child.on("close", finish);
    });
  }

  /** Resolves at the next stderr line or at exit. */
  nextLines(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.lineWaiters.push(resolve));
  }

  text(which: "stdout" | "stderr" | "combined"): string {
    return Buffer.concat(this[which]).toString("utf8");
  }
}

/** The first `name` on PATH (the provider's own environment's), else /usr/bin/name. */
function which(name: string, env: NodeJS.ProcessEnv): string {
  for (const dir of (env.PATH ?? process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not here
    }
  }
  return `/usr/bin/${name}`;
}

// ---------------------------------------------------------------------------------------------
// Remote

/** A connection's fields after the provider's defaults. */
interface Hop {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
  hostKey?: string;
}

/**
 * remote/connection.go Annotate (and proxyConnection.go, identical): user "root", port 22,
 * dialErrorLimit 10, perDialTimeout 15, applied only where a field is unset (infer's
 * SetDefault; an explicit 0 stays 0).
 */
function withDefaults(c: Omit<SshConnection, "proxy">): Hop {
  const set = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
  return {
    host: c.host,
    // connection.go Dial: `int(*c.Port)` truncates a fractional port.
    port: Math.trunc(set(c.port) ?? 22),
    user: set(c.user) ?? "root",
    ...(set(c.password) !== undefined && { password: c.password }),
    ...(set(c.privateKey) !== undefined && { privateKey: c.privateKey }),
    ...(set(c.privateKeyPassword) !== undefined && { privateKeyPassword: c.privateKeyPassword }),
    ...(set(c.agentSocketPath) !== undefined && { agentSocketPath: c.agentSocketPath }),
    dialErrorLimit: set(c.dialErrorLimit) ?? 10,
    perDialTimeout: set(c.perDialTimeout) ?? 15,
    ...(set(c.hostKey) !== undefined && { hostKey: c.hostKey }),
  };
}

/** A hop ready to dial: the ssh options and environment that make OpenSSH act as SSHConfig. */
interface PreparedHop {
  readonly hop: Hop;
  readonly options: string[];
  readonly env: NodeJS.ProcessEnv;
}

/** net.JoinHostPort: IPv6 literals in brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** ssh's words for why a dial failed: its last line that is neither debug output nor banner. */
function sshReason(lines: readonly string[], fallback: string): string {
  const said = lines
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^debug\d:/.test(l) && !l.startsWith("@"));
  return said.at(-1) ?? fallback;
}

const READY = "debug1: Entering interactive session.";
/** What the -W helper says when the proxy could not open the tunnel (provider stage 3). */
const TUNNEL_REFUSED = /Stdio forwarding request failed/;

interface Master {
  readonly proc: Proc;
  readonly control: string;
}

type Attempt = { ok: true; value: Master } | { ok: false; error: string; tunnel: boolean };

class RemoteRun {
  private readonly deadline: Deadline;
  private readonly dir: string;
  private readonly masters: Master[] = [];
  private attempts = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly r: RemoteRequest,
  ) {
    // A root-only directory per run (mkdtemp makes it 0700): a connection is never shared.
    this.dir = mkdtempSync(join(ctx.tmpDir ?? tmpdir(), "cm-ssh-"));
    // ssh binds the control socket under a 17-character temporary suffix first; a Unix socket
    // path has room for 107 bytes.
    if (Buffer.byteLength(join(this.dir, "t.sock")) + 17 > 107) {
      rmSync(this.dir, { recursive: true, force: true });
      throw new Error(`the transport's temp dir ${this.dir} is too deep for ssh control sockets`);
    }
    this.deadline = new Deadline(r.timeoutMs);
  }

  async run(): Promise<RunResult> {
    try {
      checkNetns(this.ctx);
      const master = await this.dial();
      const env = await this.setenv(master);
      return await this.exec(master, env);
    } finally {
      await this.close();
    }
  }

  // --- dial: remote/connection.go Dial ------------------------------------------------------

  private async dial(): Promise<Master> {
    const { proxy, ...target } = this.r.connection;
    const targetHop = withDefaults(target);
    // connection.go Dial: the target's SSHConfig first, unprefixed ...
    const prepared = await this.prepare(targetHop, "t", "");
    if (!proxy) {
      const master = await this.retry("", () =>
        dialWithRetry(
          "Dial",
          targetHop.dialErrorLimit,
          () => this.attempt(prepared, "t", undefined),
          this.retryDeps(),
        ),
      );
      return master;
    }
    // ... then the proxy's, its errors prefixed "proxy: ".
    const proxyHop = withDefaults(proxy);
    const preparedProxy = await this.prepare(proxyHop, "p", "proxy: ");
    // connection.go Dial: ssh.Dial to the proxy with the proxy's own config and limit.
    const proxyMaster = await this.retry("proxy: ", () =>
      dialWithRetry(
        "Dial proxy",
        proxyHop.dialErrorLimit,
        () => this.attempt(preparedProxy, "p", undefined),
        this.retryDeps(),
      ),
    );
    // connection.go Dial: the tunnel (proxyClient.Dial, "Dial from proxy") then the handshake
    // over it (ssh.NewClientConn, "Dial"), each retried with the *target's* limit, errors
    // prefixed "proxy: ". One OpenSSH attempt is both; a failure counts toward the tunnel loop
    // until a tunnel has once opened, toward the handshake loop after that.
    return this.retry("proxy: ", async () => {
      const tunnel = new DialRetry("Dial from proxy", targetHop.dialErrorLimit, this.retryDeps());
      let handshake: DialRetry | undefined;
      for (;;) {
        const mark = proxyMaster.proc.lines.length;
        const a = await this.attempt(prepared, "t", proxyMaster);
        if (a.ok) return a.value;
        if (!handshake && a.tunnel) {
          // x/crypto's words come from the proxy ("ssh: rejected: connect failed (…)"); here
          // the proxy master's own line, which may trail the helper's exit by a moment.
          const said = await this.proxySaid(proxyMaster, mark);
          await tunnel.failed(said ?? a.error);
        } else {
          handshake ??= new DialRetry("Dial", targetHop.dialErrorLimit, this.retryDeps());
          await handshake.failed(a.error);
        }
      }
    });
  }

  /** The proxy master's "channel N: open failed: …" since `mark`, waiting at most 250 ms. */
  private async proxySaid(proxy: Master, mark: number): Promise<string | undefined> {
    const until = Date.now() + 250;
    for (;;) {
      const line = proxy.proc.lines.slice(mark).find((l) => / open failed: /.test(l));
      if (line || proxy.proc.exited || Date.now() >= until) return line?.trim();
      await Promise.race([proxy.proc.nextLines(), new Promise((r) => setTimeout(r, 50))]);
    }
  }

  private retryDeps() {
    return {
      sleep: (ms: number) => this.deadline.sleep(ms),
      ...(this.r.log && { log: this.r.log }),
    };
  }

  /** Runs a retry loop; its end becomes DialFailed (or TimedOut) with the provider's prefix. */
  private async retry<T>(prefix: string, loop: () => Promise<T>): Promise<T> {
    try {
      return await loop();
    } catch (e) {
      if (e instanceof RetriesExhausted)
        throw new DialFailed(`${prefix}${e.message}`, this.attempts);
      // connection.go dialWithRetry: a cancelled context returns ctx.Err(), wrapped by Dial.
      if (e instanceof TimedOut) throw new TimedOut(`${prefix}${e.message}`);
      throw e;
    }
  }

  /**
   * remote/connection.go SSHConfig for one hop, as ssh options. Fails at once, as SSHConfig
   * does, on a host key or private key that does not parse and on an agent socket that cannot
   * be opened.
   */
  private async prepare(hop: Hop, name: string, prefix: string): Promise<PreparedHop> {
    const fail = (message: string) => new DialFailed(`${prefix}${message}`, 0);
    const file = (suffix: string, content: string, mode = 0o600) => {
      const path = join(this.dir, `${name}.${suffix}`);
      writeFileSync(path, content, { mode });
      return path;
    };
    const options: string[] = [];
    const o = (kv: string) => options.push("-o", kv);
    const env: NodeJS.ProcessEnv = { PATH: this.ctx.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" };

    // connection.go SSHConfig: hostKey → ssh.ParseAuthorizedKey, an error "failed to parse host
    // key: …" before any dial; then FixedHostKey and HostKeyAlgorithms = [key.Type()]. Pinned
    // here as the only entry of this hop's own known_hosts, under an alias naming exactly
    // [host]:port; no hostKey → InsecureIgnoreHostKey: nothing checked, nothing recorded.
    o("GlobalKnownHostsFile=/dev/null");
    o("CheckHostIP=no");
    o("UpdateHostKeys=no");
    o("VerifyHostKeyDNS=no");
    if (hop.hostKey !== undefined) {
      let key: HostKey;
      try {
        key = parseAuthorizedKey(hop.hostKey);
      } catch (e) {
        if (e instanceof KeyError) throw fail(`failed to parse host key: ${e.message}`);
        throw e;
      }
      const alias = `[${hop.host}]:${hop.port}`;
      o(`UserKnownHostsFile=${file("known_hosts", knownHostsLine(alias, key))}`);
      o(`HostKeyAlias=${alias.replace(/%/g, "%%")}`);
      o("StrictHostKeyChecking=yes");
      o(`HostKeyAlgorithms=${key.type}`);
    } else {
      o("UserKnownHostsFile=/dev/null");
      o("StrictHostKeyChecking=no");
    }

    // connection.go SSHConfig, auth in order: privateKey (ssh.PublicKeys), password (Password,
    // then KeyboardInteractive answering every question with it), agent (PublicKeysCallback).
    // x/crypto tries each method name once (client_auth.go clientAuthenticate `tried`): after the
    // private key's "publickey" fails, the agent's "publickey" is never tried — so with a
    // privateKey the agent is dialed (and must open) but offers nothing.
    let askpass = false;
    if (hop.privateKey !== undefined) {
      try {
        checkPrivateKeyFormat(hop.privateKey, hop.privateKeyPassword);
      } catch (e) {
        // connection.go SSHConfig returns ParsePrivateKey's error as it is, no prefix of its own.
        if (e instanceof KeyError) throw fail(e.message);
        throw e;
      }
      const keyFile = file(
        "key",
        hop.privateKey.endsWith("\n") ? hop.privateKey : `${hop.privateKey}\n`,
      );
      if (hop.privateKeyPassword !== undefined) {
        file("passphrase", hop.privateKeyPassword);
        askpass = true;
      }
      o(`IdentityFile=${keyFile}`);
      o("IdentitiesOnly=yes");
      o("IdentityAgent=none");
    } else {
      // `none` counts as configured, so ssh never falls back to ~/.ssh/id_*.
      o("IdentityFile=none");
    }
    if (hop.password !== undefined) {
      file("password", hop.password);
      askpass = true;
    }
    if (askpass) {
      // ssh asks its SSH_ASKPASS program for the passphrase and the password: the secrets stay in
      // 0600 files, never on a command line or in an environment.
      const script = [
        "#!/bin/sh",
        `# Answers ssh's prompts for one hop from files only root can read.`,
        'case "$1" in',
        `  "Enter passphrase"*) exec cat ${shq(join(this.dir, `${name}.passphrase`))} ;;`,
        `  *) exec cat ${shq(join(this.dir, `${name}.password`))} ;;`,
        "esac",
        "",
      ].join("\n");
      env.SSH_ASKPASS = file("askpass", script, 0o700);
      env.SSH_ASKPASS_REQUIRE = "force";
    }
    o(`BatchMode=${askpass ? "no" : "yes"}`);
    if (hop.privateKey !== undefined) await this.checkKeyMaterial(hop, name, env, fail);

    // connection.go SSHConfig + connection_unix.go: agentSocketPath, else SSH_AUTH_SOCK if
    // non-empty; dialAgent = net.Dial("unix", path), and a failure is returned at once.
    const agent =
      hop.agentSocketPath ?? (this.ctx.env.SSH_AUTH_SOCK ? this.ctx.env.SSH_AUTH_SOCK : undefined);
    if (agent !== undefined) {
      const error = await dialUnix(agent);
      if (error) throw fail(`dial unix ${agent}: connect: ${error}`);
      if (hop.privateKey === undefined) {
        // The path goes by environment: IdentityAgent would expand % and ${} in it.
        env.SSH_AUTH_SOCK = agent;
        o("IdentityAgent=SSH_AUTH_SOCK");
        o("IdentitiesOnly=no");
      }
    } else if (hop.privateKey === undefined) {
      o("IdentityAgent=none");
    }
    const methods = [
      ...(hop.privateKey !== undefined ? ["publickey"] : []),
      ...(hop.password !== undefined ? ["password", "keyboard-interactive"] : []),
      ...(hop.privateKey === undefined ? ["publickey"] : []),
    ];
    o(`PreferredAuthentications=${methods.join(",")}`);
    o(`PasswordAuthentication=${hop.password !== undefined ? "yes" : "no"}`);
    o(`KbdInteractiveAuthentication=${hop.password !== undefined ? "yes" : "no"}`);
    o("NumberOfPasswordPrompts=1");
    o("PubkeyAuthentication=yes");
    o("HostbasedAuthentication=no");
    o("GSSAPIAuthentication=no");
    o("AddKeysToAgent=no");
    // Nothing the provider does not do: no forwarding, no local commands, no keepalives.
    o("ForwardAgent=no");
    o("ForwardX11=no");
    o("ClearAllForwardings=yes");
    o("Tunnel=no");
    o("PermitLocalCommand=no");
    o("ServerAliveInterval=0");
    o("Compression=no");
    o("KnownHostsCommand=none");
    o("ProxyJump=none");
    // Sessions opened through this master carry their client's variables (remote/commandOutputs.go
    // run: session.Setenv); the master itself opens none.
    o("SendEnv=*");
    return { hop, options, env };
  }

  /**
   * connection.go SSHConfig: ParsePrivateKey[WithPassphrase] must succeed before any dial. The
   * format was checked with x/crypto's rules; the key material is checked by ssh-keygen, with
   * the passphrase (if any) from the askpass helper.
   */
  private async checkKeyMaterial(
    hop: Hop,
    name: string,
    env: NodeJS.ProcessEnv,
    fail: (m: string) => DialFailed,
  ): Promise<void> {
    const r = spawnSync(this.ctx.tools.sshKeygen, ["-y", "-f", join(this.dir, `${name}.key`)], {
      env: env.SSH_ASKPASS ? env : { PATH: env.PATH },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      timeout: 30_000,
    });
    if (r.status === 0) return;
    const said = (r.stderr ?? "").trim().split("\n").at(-1) ?? "";
    if (hop.privateKeyPassword !== undefined && /incorrect passphrase/.test(said)) {
      // keys.go: a wrong passphrase is x509.IncorrectPasswordError.
      throw fail("x509: decryption password incorrect");
    }
    throw fail(`ssh: cannot use the private key: ${said || `ssh-keygen exited ${r.status}`}`);
  }

  /** One dial: a control master for the hop, up or failed. */
  private async attempt(p: PreparedHop, name: string, via: Master | undefined): Promise<Attempt> {
    this.attempts++;
    const control = join(this.dir, `${name}.sock`);
    const args = [
      "-F",
      "/dev/null",
      "-M",
      "-N",
      "-T",
      "-S",
      control,
      "-o",
      "ControlPersist=no",
      "-o",
      "LogLevel=DEBUG1",
      "-p",
      String(p.hop.port),
      "-l",
      p.hop.user,
      ...p.options,
    ];
    if (via) {
      // Through the proxy's own master: a direct-tcpip channel as proxyClient.Dial opens. The
      // helper falls back to nothing if that master is gone (ProxyCommand=/bin/false). No
      // ConnectTimeout: connection.go sets Timeout only for ssh.Dial, not over the proxy.
      // (ssh itself runs it as `exec <ProxyCommand>` under /bin/sh.)
      const helper = [
        shq(this.ctx.tools.ssh),
        "-F /dev/null -o ControlMaster=no -o ProxyCommand=/bin/false -o LogLevel=ERROR",
        "-S",
        shq(via.control),
        "-W",
        shq(joinHostPort(p.hop.host, p.hop.port)),
        "proxy",
      ].join(" ");
      args.push("-o", `ProxyCommand=${helper.replace(/%/g, "%%")}`);
    } else {
      args.push("-o", "ProxyCommand=none");
      // connection.go SSHConfig: Timeout = perDialTimeout s, which x/crypto's ssh.Dial spends
      // on the TCP connect only; 0 means none. (OpenSSH also bounds the banner exchange by it.)
      if (p.hop.perDialTimeout > 0) args.push("-o", `ConnectTimeout=${p.hop.perDialTimeout}`);
    }
    args.push("--", p.hop.host);
    const proc = this.spawnSsh(args, p.env, undefined, true);
    for (;;) {
      if (proc.lines.includes(READY)) break;
      if (proc.exited) break;
      await proc.nextLines();
    }
    if (this.deadline.expired) {
      await proc.exit;
      throw new TimedOut("context deadline exceeded");
    }
    if (!proc.exited && existsSync(control)) {
      const master = { proc, control };
      this.masters.push(master);
      return { ok: true, value: master };
    }
    if (!proc.exited) {
      proc.child.kill("SIGKILL");
      await proc.exit;
    }
    const exit = proc.exited as Exit;
    const error = sshReason(
      proc.lines,
      exit.error ? exit.error.message : `ssh exited with status ${exit.code}`,
    );
    return {
      ok: false,
      error,
      tunnel: proc.lines.some((l) => TUNNEL_REFUSED.test(l)),
    };
  }

  /** ssh in the operator's network namespace, killed when the run's deadline passes. */
  private spawnSsh(
    args: string[],
    env: NodeJS.ProcessEnv,
    stdin: string | undefined,
    byLine = false,
  ): Proc {
    const [command, argv] = inNetns(this.ctx, this.ctx.tools.ssh, args);
    const child = spawn(command, argv, {
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    return new Proc(
      child,
      stdin,
      { deadline: this.deadline, kill: () => child.kill("SIGKILL") },
      byLine,
    );
  }

  /** A session through the master's control socket. */
  private session(master: Master, command: string, env: Record<string, string>, stdin?: string) {
    const args = [
      "-F",
      "/dev/null",
      "-S",
      master.control,
      "-o",
      "ControlMaster=no",
      // If the master is gone, fail rather than dial anew.
      "-o",
      "ProxyCommand=/bin/false",
      "-o",
      "BatchMode=yes",
      // Nothing of ssh's own on the command's stderr.
      "-o",
      "LogLevel=QUIET",
      "-o",
      "SendEnv=*",
      "-T",
      "--",
      "target",
      // An empty command is an exec request for "" (sshd runs `shell -c ""`); OpenSSH would
      // ask for a login shell instead, so it gets " ", which the shell runs the same.
      command === "" ? " " : command,
    ];
    return this.spawnSsh(args, env, stdin);
  }

  // --- setenv: remote/commandOutputs.go run ------------------------------------------------

  /**
   * remote/commandOutputs.go run: each `environment` entry by session.Setenv, a refusal an
   * error ("could not set environment variable %q: ssh: setenv failed", after an error
   * diagnostic); PULUMI_COMMAND_STDOUT/STDERR after them, a refusal only a warning. OpenSSH's
   * client sends "env" requests without asking for a reply, so a probe session on the same
   * connection sends the same names (with random values) and reports which ones arrived.
   */
  private async setenv(master: Master): Promise<Record<string, string>> {
    const user = this.r.environment ?? {};
    const previous = previousEnv(this.r);
    const names = [...Object.keys(user), ...Object.keys(previous)];
    for (const n of names) {
      if (n === "" || n.includes("=") || n.includes("\0")) {
        throw new SetenvFailed(
          `could not set environment variable ${goQuote(n)}: the lab cannot send a name with "=" or NUL`,
        );
      }
    }
    // The later entries win in a process environment, as sshd's child_set_env does.
    const env = { ...user, ...previous };
    if (names.length === 0) return env;
    const nonces = Object.fromEntries(names.map((n) => [n, randomBytes(12).toString("hex")]));
    const probe = this.session(master, "env", nonces);
    const exit = await probe.exit;
    if (this.deadline.expired) throw new TimedOut("context deadline exceeded");
    if (exit.code !== 0) {
      throw new Error(
        `the lab's environment probe failed (${exit.code ?? exit.signal}): ${probe.text("stderr").trim()}`,
      );
    }
    const arrived = new Set(probe.text("stdout").split("\n"));
    const accepted = (n: string) => arrived.has(`${n}=${nonces[n]}`);
    for (const n of Object.keys(user)) {
      if (!accepted(n)) {
        this.r.log?.(`error: ${setenvAdvice(n)}`);
        throw new SetenvFailed(
          `could not set environment variable ${goQuote(n)}: ssh: setenv failed`,
        );
      }
    }
    for (const n of Object.keys(previous)) {
      if (!accepted(n)) this.r.log?.(`warning: ${setenvAdvice(n)}`);
    }
    return env;
  }

  // --- run: remote/commandOutputs.go run ----------------------------------------------------

  private async exec(master: Master, env: Record<string, string>): Promise<RunResult> {
    const command = this.r.command;
    // commandOutputs.go run: stdin only if non-nil and non-empty; otherwise the session's stdin
    // is empty (x/crypto sends EOF at once).
    const stdin = this.r.stdin !== undefined && this.r.stdin.length > 0 ? this.r.stdin : undefined;
    const mark = master.proc.lines.length;
    const proc = this.session(master, command, env, stdin);
    if (this.ctx.counter) this.ctx.counter.commands++;
    const exit = await proc.exit;
    const combined = proc.text("combined");
    if (this.deadline.expired) {
      throw new TimedOut(`context deadline exceeded: running ${goQuote(command)}:\n${combined}`);
    }
    if (exit.code === 0) {
      // commandOutputs.go run: strings.TrimSuffix(buf, "\n") on each stream.
      return { stdout: trimOne(proc.text("stdout")), stderr: trimOne(proc.text("stderr")) };
    }
    let status: string;
    if (exit.code !== null && exit.code !== 255) {
      status = sshExitText({ status: exit.code });
    } else {
      // 255 is also what ssh returns for a signal or a lost connection. The master's log says
      // which: it saw an exit-status or an exit-signal request on this session, or neither.
      await this.stopMaster(master);
      const log = master.proc.lines.slice(mark);
      if (log.some((l) => /rtype exit-status\b/.test(l))) status = sshExitText({ status: 255 });
      // OpenSSH's client does not read the signal's name (clientloop.c ignores exit-signal).
      else if (log.some((l) => /rtype exit-signal\b/.test(l)))
        status = sshExitText({ signal: "UNKNOWN" });
      else status = SSH_EXIT_MISSING;
    }
    // commandOutputs.go run: fmt.Errorf("%w: running %q:\n%s", err, cmd, stdouterrbuf).
    throw new CommandFailed(status, command, combined, proc.text("stdout"), proc.text("stderr"));
  }

  // --- close --------------------------------------------------------------------------------

  private async stopMaster(m: Master): Promise<void> {
    if (m.proc.exited) return;
    m.proc.child.kill("SIGTERM");
    const killed = setTimeout(() => m.proc.child.kill("SIGKILL"), 3000);
    await m.proc.exit;
    clearTimeout(killed);
  }

  private async close(): Promise<void> {
    // The target's master first: it rides on the proxy's.
    for (const m of [...this.masters].reverse()) await this.stopMaster(m);
    this.deadline.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** remote/commandOutputs.go logAndWrapSetenvErr: the diagnostic's text (a Go raw string). */
function setenvAdvice(name: string): string {
  return `Unable to set '${name}'. This only works if your SSH server is configured to accept
\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
\tprefix the command itself with the variables in the form 'VAR=value command'`;
}

/** net.Dial("unix", path): undefined when it connects, else Go's errno text. */
function dialUnix(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(goErrnoText(e));
    });
  });
}

/** The lab runs everything inside the operator's network namespace; a real operator does not. */
function inNetns(ctx: Ctx, path: string, args: string[]): [string, string[]] {
  return ctx.netnsPath
    ? [ctx.tools.nsenter, [`--net=${ctx.netnsPath}`, "--", path, ...args]]
    : [path, args];
}

function checkNetns(ctx: Ctx): void {
  if (ctx.netnsPath && !existsSync(ctx.netnsPath)) {
    throw new Error(`no network namespace ${ctx.netns ?? ""} (${ctx.netnsPath})`);
  }
}

/** Single-quoted for /bin/sh. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Local: local/commandOutputs.go run

async function runLocal(ctx: Ctx, r: LocalRequest): Promise<RunResult> {
  checkNetns(ctx);
  // local/commandOutputs.go run: the interpreter if non-empty, else ["/bin/sh", "-c"], and the
  // command as the last argument.
  const argv = [...(r.interpreter && r.interpreter.length > 0 ? r.interpreter : ["/bin/sh", "-c"])];
  argv.push(r.command);
  const failed = (err: string) => new CommandFailed(err, r.command, "");
  const name = argv[0] as string;
  // os/exec Command: a bare name is looked up on the provider's own PATH (not the command's).
  const found = name.includes("/") ? { path: name } : lookPath(name, ctx.env.PATH ?? "");
  if ("error" in found) throw failed(found.error);
  const path = found.path;
  // run: cmd.Dir = dir, else os.Getwd().
  const dir = r.dir ?? process.cwd();
  // os.StartProcess: Stat(dir) first ("chdir DIR: …"), then fork/exec reports the rest.
  try {
    statSync(dir);
  } catch (e) {
    throw failed(`chdir ${dir}: ${goErrnoText(e as NodeJS.ErrnoException)}`);
  }
  const startError = execProblem(path, dir);
  if (startError) throw failed(`fork/exec ${path}: ${startError}`);
  // run: os.Environ(), then each `environment` entry, then PULUMI_COMMAND_STDOUT/STDERR; the
  // later wins (os/exec dedupEnv).
  const env = { ...ctx.env, ...(r.environment ?? {}), ...previousEnv(r) };
  // run: stdin only if non-empty; else the child's stdin is /dev/null (os/exec's default).
  const stdin = r.stdin !== undefined && r.stdin.length > 0 ? r.stdin : undefined;
  const deadline = new Deadline(r.timeoutMs);
  // Its own process group, so the deadline takes every process of the command with it.
  const [command, args] = inNetns(ctx, path, argv.slice(1));
  if (ctx.counter) ctx.counter.commands++;
  const child = spawn(command, args, {
    cwd: dir,
    env,
    detached: true,
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const proc = new Proc(child, stdin, {
    deadline,
    kill: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  });
  const exit = await proc.exit;
  deadline.clear();
  if (exit.error) throw failed(exit.error.message);
  if (exit.code === 0 && !deadline.expired) {
    // run: strings.TrimSuffix on each stream.
    return { stdout: trimOne(proc.text("stdout")), stderr: trimOne(proc.text("stderr")) };
  }
  // exec.CommandContext kills with SIGKILL when the context ends: "signal: killed".
  throw new CommandFailed(
    localExitText(exit.code, exit.signal),
    r.command,
    proc.text("combined"),
    proc.text("stdout"),
    proc.text("stderr"),
  );
}

/** os/exec LookPath: the first executable regular file named `name` on PATH. */
function lookPath(name: string, path: string): { path: string } | { error: string } {
  for (const entry of path.split(delimiter)) {
    const candidate = join(entry === "" ? "." : entry, name);
    if (execProblem(candidate) === undefined) {
      if (!isAbsolute(candidate)) {
        return {
          error: `exec: ${goQuote(name)}: cannot run executable found relative to current directory`,
        };
      }
      return { path: candidate };
    }
  }
  return { error: `exec: ${goQuote(name)}: executable file not found in $PATH` };
}

/** Why `path` cannot be executed (Go's errno text), or undefined. */
function execProblem(path: string, dir?: string): string | undefined {
  const full = dir && !isAbsolute(path) ? join(dir, path) : path;
  try {
    if (dir && !statSync(dir).isDirectory()) return "not a directory";
    if (statSync(full).isDirectory()) return "permission denied";
    accessSync(full, constants.X_OK);
    return undefined;
  } catch (e) {
    return goErrnoText(e as NodeJS.ErrnoException);
  }
}
