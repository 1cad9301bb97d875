// The lab transport against real sshd: pulumi-command v1.2.1's remote and local runs, from an
// operator namespace to hosts in namespaces of this test's own. Topology (nothing else is
// reachable, and the middle host does not forward):
//   operator 10.231.1.1 ── 10.231.1.2 proxy host 10.231.2.1 ── 10.231.2.2 target
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CommandFailed,
  DialFailed,
  sshTransport,
  SetenvFailed,
  TimedOut,
  type SshConnection,
  type Transport,
} from "../../operator/ssh";
import { backoffSchedule } from "../../operator/sshRetry";
import { createNetns, type Netns } from "../helpers/netns";
import { requireTools, runOk, tempDir } from "../helpers/run";
import { link, newKey, removeNetns, startSshd, type SshServer } from "../helpers/sshServer";

requireTools("sshd", "ssh", "ssh-keygen", "ssh-agent", "ssh-add", "nsenter", "unshare", "openssl");

const OPERATOR = "10.231.1.1";
const PROXY = "10.231.1.2";
const PROXY_INNER = "10.231.2.1";
const TARGET = "10.231.2.2";
const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "tr0ub4dor&3";

const tmp = tempDir("transport");
const runs = join(tmp.path, "runs");
const spaces: Netns[] = [];
const servers: SshServer[] = [];
const children: ChildProcess[] = [];
let op: Netns;
let px: Netns;
let tg: Netns;
let userKey: { file: string; pub: string };
let encKey: { file: string; pub: string };
let proxy: SshServer; // :22, no AcceptEnv
let envHost: SshServer; // :2200, AcceptEnv FOO PULUMI_COMMAND_*
let passwordHost: SshServer; // :2300, root's password
let target: SshServer; // behind the proxy
let agentSocket: string;
const counter = { commands: 0 };
let t: Transport;

const dirOf = (name: string) => join(tmp.path, name);
const key = () => readFileSync(userKey.file, "utf8");
const direct = (s: SshServer, extra: Partial<SshConnection> = {}): SshConnection => ({
  host: s.address,
  port: s.port,
  hostKey: s.hostKey,
  privateKey: key(),
  ...extra,
});

beforeAll(async () => {
  mkdirSync(runs);
  op = createNetns("top");
  px = createNetns("tpx");
  tg = createNetns("ttg");
  spaces.push(op, px, tg);
  link(
    { netns: op.name, ifname: "eth-px", address: OPERATOR },
    { netns: px.name, ifname: "eth-op", address: PROXY },
  );
  link(
    { netns: px.name, ifname: "eth-tg", address: PROXY_INNER },
    { netns: tg.name, ifname: "eth-px", address: TARGET },
  );
  mkdirSync(dirOf("keys"));
  userKey = newKey(dirOf("keys"), "user");
  encKey = newKey(dirOf("keys"), "enc", PASSPHRASE);
  const authorizedKeys = `${userKey.pub}\n${encKey.pub}`;
  proxy = await startSshd({
    netns: px.name,
    address: PROXY,
    port: 22,
    dir: dirOf("proxy"),
    authorizedKeys,
  });
  envHost = await startSshd({
    netns: px.name,
    address: PROXY,
    port: 2200,
    dir: dirOf("env"),
    authorizedKeys,
    acceptEnv: ["FOO", "PULUMI_COMMAND_*"],
  });
  passwordHost = await startSshd({
    netns: px.name,
    address: PROXY,
    port: 2300,
    dir: dirOf("password"),
    authorizedKeys,
    rootPassword: PASSWORD,
  });
  target = await startSshd({
    netns: tg.name,
    address: TARGET,
    port: 22,
    dir: dirOf("target"),
    authorizedKeys,
  });
  servers.push(proxy, envHost, passwordHost, target);
  agentSocket = join(tmp.path, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
  children.push(agent);
  for (let i = 0; i < 100 && !existsSync(agentSocket); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  runOk("ssh-add", ["-q", userKey.file], {
    env: { PATH: process.env.PATH, SSH_AUTH_SOCK: agentSocket },
  });
  t = sshTransport({ netns: op.name, env: { PATH: process.env.PATH }, counter, tmpDir: runs });
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const c of children) c.kill("SIGKILL");
  for (const n of spaces) removeNetns(n.name);
  tmp.remove();
});

/** Every run leaves nothing: its private directory is gone, and no ssh of it is running. */
afterEach(() => {
  expect(readdirSync(runs)).toEqual([]);
  expect(processes().filter((p) => p.cmdline.includes(runs))).toEqual([]);
});

function processes(): { pid: string; cmdline: string; environ: string }[] {
  const out: { pid: string; cmdline: string; environ: string }[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      out.push({
        pid,
        cmdline: readFileSync(`/proc/${pid}/cmdline`, "latin1"),
        environ: readFileSync(`/proc/${pid}/environ`, "latin1"),
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure");
}

describe("remote.Command", () => {
  test("runs with stdin; stdout and stderr come back separately, one trailing LF trimmed", async () => {
    const before = counter.commands;
    const r = await t.remote({
      connection: direct(proxy),
      command: "cat; printf 'e1\\r\\n\\n' >&2",
      stdin: "in\n\n",
    });
    expect(r).toEqual({ stdout: "in\n", stderr: "e1\r\n" });
    // No stdin: the command reads EOF at once.
    expect(await t.remote({ connection: direct(proxy), command: "cat; echo done" })).toEqual({
      stdout: "done",
      stderr: "",
    });
    expect(counter.commands - before).toBe(2);
  });

  test("a non-zero exit: the provider's message, with the output interleaved", async () => {
    const command = 'echo out; sleep 0.2; echo "err \\"quoted\\"" >&2\nexit 3';
    const e = await failure(t.remote({ connection: direct(proxy), command }));
    expect(e).toBeInstanceOf(CommandFailed);
    expect(e.message).toBe(
      'Process exited with status 3: running "echo out; sleep 0.2; echo \\"err \\\\\\"quoted\\\\\\"\\" >&2\\nexit 3":\nout\nerr "quoted"\n',
    );
    const e255 = await failure(t.remote({ connection: direct(proxy), command: "exit 255" }));
    expect(e255.message).toBe('Process exited with status 255: running "exit 255":\n');
    // OpenSSH's client does not pass on the signal's name (see the transport's limitations).
    const sig = await failure(t.remote({ connection: direct(proxy), command: "kill -TERM $$" }));
    expect(sig.message).toBe(
      'Process exited with status 128 from signal UNKNOWN: running "kill -TERM $$":\n',
    );
  });

  test("a wrong host key is refused, limit+1 attempts on the provider's backoff", async () => {
    const lines: { at: number; line: string }[] = [];
    const before = proxy.connections();
    const started = Date.now();
    const e = await failure(
      t.remote({
        connection: direct(proxy, { hostKey: userKey.pub, dialErrorLimit: 2 }),
        command: "touch /tmp/never",
        log: (line) => lines.push({ at: Date.now() - started, line }),
      }),
    );
    const elapsed = Date.now() - started;
    expect(e).toBeInstanceOf(DialFailed);
    expect(e.message).toBe("after 2 failed attempts: Host key verification failed.");
    expect((e as DialFailed).attempts).toBe(3);
    expect(proxy.connections() - before).toBe(3);
    expect(lines.map((l) => l.line)).toEqual([
      "Dial 1/2 failed: retrying",
      "Dial 2/2 failed: retrying",
    ]);
    // 0.1 s + 0.15 s of waiting, plus three handshakes.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(250 + 3 * 1000);
    console.log(`wrong host key, limit 2: 3 attempts in ${elapsed} ms (waits 250 ms)`);
  });

  test("a refused port: the waits between attempts follow 0.1 s × 1.5^n", async () => {
    const at: number[] = [];
    const started = Date.now();
    const e = await failure(
      t.remote({
        connection: direct(proxy, { port: 2999, dialErrorLimit: 6 }),
        command: "true",
        log: () => at.push(Date.now() - started),
      }),
    );
    const elapsed = Date.now() - started;
    expect(e.message).toBe(
      `after 6 failed attempts: ssh: connect to host ${PROXY} port 2999: Connection refused`,
    );
    const schedule = backoffSchedule(6);
    // Between two "failed: retrying" lines: one wait and one (fast) attempt.
    const gaps = at.slice(1).map((v, i) => v - (at[i] as number));
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual((schedule[i] as number) - 5);
      expect(gap).toBeLessThan((schedule[i] as number) + 200);
    });
    const waits = schedule.reduce((a, b) => a + b, 0);
    expect(elapsed).toBeGreaterThanOrEqual(waits);
    console.log(
      `refused, limit 6: 7 attempts in ${elapsed} ms; schedule ${schedule.map((s) => s.toFixed(0)).join("+")} = ${waits.toFixed(0)} ms; measured gaps ${gaps.join(", ")} ms`,
    );
  });

  test("a host that starts listening after 2 s is reached within the retry budget", async () => {
    const lines: string[] = [];
    const started = Date.now();
    let late: SshServer | undefined;
    const starting = new Promise<void>((resolve, reject) =>
      setTimeout(() => {
        startSshd({
          netns: px.name,
          address: PROXY,
          port: 2400,
          dir: dirOf("late"),
          authorizedKeys: userKey.pub,
          hostKeyFile: join(dirOf("proxy"), "host"),
        }).then((s) => {
          late = s;
          servers.push(s);
          resolve();
        }, reject);
      }, 2000),
    );
    const r = await t.remote({
      connection: direct(proxy, { port: 2400 }),
      command: "echo reached",
      log: (l) => lines.push(l),
    });
    await starting;
    const elapsed = Date.now() - started;
    expect(r.stdout).toBe("reached");
    expect(late?.connections()).toBe(1);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(/^Dial \d+\/10 failed: retrying$/);
    expect(elapsed).toBeGreaterThan(2000);
    expect(elapsed).toBeLessThan(2000 + 5000);
    console.log(`late host: reached after ${lines.length} failed dials, ${elapsed} ms`);
  });

  test("a malformed hostKey fails at once, without a dial", async () => {
    const before = proxy.connections();
    const started = Date.now();
    const e = await failure(
      t.remote({
        connection: direct(proxy, { hostKey: "ssh-ed25519 AAAAC3Nza" }),
        command: "true",
      }),
    );
    expect(e).toBeInstanceOf(DialFailed);
    expect(e.message).toBe(
      "failed to parse host key: ssh: no key found; last parsing error for ignored line: illegal base64 data at input byte 8",
    );
    expect((e as DialFailed).attempts).toBe(0);
    expect(Date.now() - started).toBeLessThan(500);
    expect(proxy.connections()).toBe(before);
  });

  test("an agent socket that cannot be opened fails at once, inherited or given", async () => {
    const before = proxy.connections();
    const missing = join(tmp.path, "no-agent.sock");
    const given = await failure(
      t.remote({
        connection: { host: PROXY, hostKey: proxy.hostKey, agentSocketPath: missing },
        command: "true",
      }),
    );
    expect(given.message).toBe(`dial unix ${missing}: connect: no such file or directory`);
    const notASocket = join(tmp.path, "agent-file");
    writeFileSync(notASocket, "");
    const inheriting = sshTransport({
      netns: op.name,
      env: { PATH: process.env.PATH, SSH_AUTH_SOCK: notASocket },
      tmpDir: runs,
    });
    const inherited = await failure(
      inheriting.remote({ connection: direct(proxy), command: "true" }),
    );
    expect(inherited.message).toBe(`dial unix ${notASocket}: connect: connection refused`);
    expect((inherited as DialFailed).attempts).toBe(0);
    const viaProxy = await failure(
      t.remote({
        connection: {
          ...direct(target),
          proxy: { host: PROXY, hostKey: proxy.hostKey, agentSocketPath: missing },
        },
        command: "true",
      }),
    );
    expect(viaProxy.message).toBe(
      `proxy: dial unix ${missing}: connect: no such file or directory`,
    );
    expect(proxy.connections()).toBe(before);
  });

  test("agent: a working socket, given or inherited from SSH_AUTH_SOCK", async () => {
    const given = await t.remote({
      connection: { host: PROXY, hostKey: proxy.hostKey, agentSocketPath: agentSocket },
      command: "echo agent",
    });
    expect(given.stdout).toBe("agent");
    const inheriting = sshTransport({
      netns: op.name,
      env: { PATH: process.env.PATH, SSH_AUTH_SOCK: agentSocket },
      tmpDir: runs,
    });
    const r = await inheriting.remote({
      connection: { host: PROXY, hostKey: proxy.hostKey },
      command: "echo inherited",
    });
    expect(r.stdout).toBe("inherited");
  });

  test("a passphrase-protected key and a password, through the askpass helper", async () => {
    const enc = readFileSync(encKey.file, "utf8");
    const viaKey = await t.remote({
      connection: direct(proxy, { privateKey: enc, privateKeyPassword: PASSPHRASE }),
      command: "echo unlocked",
    });
    expect(viaKey.stdout).toBe("unlocked");
    const wrong = await failure(
      t.remote({
        connection: direct(proxy, { privateKey: enc, privateKeyPassword: "nope" }),
        command: "true",
      }),
    );
    expect([wrong.message, (wrong as DialFailed).attempts]).toEqual([
      "x509: decryption password incorrect",
      0,
    ]);
    const missing = await failure(
      t.remote({ connection: direct(proxy, { privateKey: enc }), command: "true" }),
    );
    expect(missing.message).toBe("ssh: this private key is passphrase protected");
    const pw = await t.remote({
      connection: { host: PROXY, port: 2300, hostKey: passwordHost.hostKey, password: PASSWORD },
      command: "echo by-password",
    });
    expect(pw.stdout).toBe("by-password");
    const bad = await failure(
      t.remote({
        connection: {
          host: PROXY,
          port: 2300,
          hostKey: passwordHost.hostKey,
          password: "wrong",
          dialErrorLimit: 0,
        },
        command: "true",
      }),
    );
    expect(bad.message).toMatch(/^after 0 failed attempts: root@10\.231\.1\.2: Permission denied/);
  });

  test("no secret in any process's argv or environment while a command runs", async () => {
    const secrets = [
      readFileSync(encKey.file, "utf8").split("\n")[2] as string,
      readFileSync(userKey.file, "utf8").split("\n")[2] as string,
      PASSPHRASE,
      PASSWORD,
    ];
    const slow = (connection: SshConnection) =>
      t.remote({ connection, command: "sleep 2; echo slept" });
    const runsAll = Promise.all([
      slow(
        direct(proxy, {
          privateKey: readFileSync(encKey.file, "utf8"),
          privateKeyPassword: PASSPHRASE,
        }),
      ),
      slow({ host: PROXY, port: 2300, hostKey: passwordHost.hostKey, password: PASSWORD }),
      slow({ ...direct(target), proxy: direct(proxy) }),
    ]);
    // Wait until all three sessions are running and every process of ours has started (a
    // remote sleep can be seen a moment before the last client of its run), then look at
    // every process.
    let seen: ReturnType<typeof processes> = [];
    const ours = () => seen.filter((p) => p.cmdline.includes(runs));
    try {
      for (let i = 0; i < 60; i++) {
        seen = processes();
        const sleeping = seen.filter((p) => p.cmdline.includes("sleep 2; echo slept")).length;
        if (sleeping >= 3 && ours().length >= 7) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Per run a master (two through the proxy) and a session client, and the -W helper.
      expect(ours().length).toBeGreaterThanOrEqual(7);
      for (const p of seen) {
        for (const s of secrets) {
          expect([p.pid, p.cmdline.includes(s) || p.environ.includes(s)]).toEqual([p.pid, false]);
        }
      }
    } finally {
      // Whatever was found, the sessions end before the next test looks for leftovers.
      await runsAll.catch(() => undefined);
    }
    expect((await runsAll).map((r) => r.stdout)).toEqual(["slept", "slept", "slept"]);
  });

  test("a proxy hop: the target is reached through it, each hop with its own host key", async () => {
    const unreachable = await failure(
      t.remote({ connection: direct(target, { dialErrorLimit: 0 }), command: "true" }),
    );
    expect(unreachable.message).toMatch(
      /^after 0 failed attempts: ssh: connect to host 10\.231\.2\.2 port 22: Network is unreachable$/,
    );
    const r = await t.remote({
      connection: { ...direct(target), proxy: direct(proxy) },
      command: 'echo "$SSH_CONNECTION"',
    });
    expect(r.stdout.split(" ")[0]).toBe(PROXY_INNER);

    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const wrongProxy = await failure(
      t.remote({
        connection: {
          ...direct(target),
          proxy: direct(proxy, { hostKey: userKey.pub, dialErrorLimit: 1 }),
        },
        command: "true",
        log,
      }),
    );
    expect(wrongProxy).toBeInstanceOf(DialFailed);
    expect(wrongProxy.message).toBe(
      "proxy: after 1 failed attempts: Host key verification failed.",
    );
    expect(lines).toEqual(["Dial proxy 1/1 failed: retrying"]);

    lines.length = 0;
    const targetConnections = target.connections();
    const wrongTarget = await failure(
      t.remote({
        connection: {
          ...direct(target, { hostKey: userKey.pub, dialErrorLimit: 1 }),
          proxy: direct(proxy),
        },
        command: "true",
        log,
      }),
    );
    expect(wrongTarget.message).toBe(
      "proxy: after 1 failed attempts: Host key verification failed.",
    );
    expect(lines).toEqual(["Dial 1/1 failed: retrying"]);
    expect(target.connections() - targetConnections).toBe(2);

    lines.length = 0;
    const closed = await failure(
      t.remote({
        connection: { ...direct(target, { port: 2999, dialErrorLimit: 1 }), proxy: direct(proxy) },
        command: "true",
        log,
      }),
    );
    expect(closed.message).toMatch(
      /^proxy: after 1 failed attempts: channel \d+: open failed: connect failed: Connection refused$/,
    );
    expect(lines).toEqual(["Dial from proxy 1/1 failed: retrying"]);
  });

  test("environment: sent with AcceptEnv, the provider's error without it", async () => {
    const ran = join(tmp.path, "env-ran");
    const lines: string[] = [];
    const refused = await failure(
      t.remote({
        connection: direct(proxy),
        command: `touch ${ran}`,
        environment: { FOO: "1" },
        log: (l) => lines.push(l),
      }),
    );
    expect(refused).toBeInstanceOf(SetenvFailed);
    expect(refused.message).toBe('could not set environment variable "FOO": ssh: setenv failed');
    expect(lines).toEqual([
      "error: Unable to set 'FOO'. This only works if your SSH server is configured to accept\n\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could\n\tprefix the command itself with the variables in the form 'VAR=value command'",
    ]);
    expect(existsSync(ran)).toBe(false);

    const accepted = await t.remote({
      connection: direct(envHost),
      command: 'printf "%s|%s|%s" "$FOO" "$PULUMI_COMMAND_STDOUT" "$PULUMI_COMMAND_STDERR"',
      environment: { FOO: "multi\nline 'quoted' $x" },
      previous: { stdout: "before\nnow", stderr: "" },
    });
    expect(accepted.stdout).toBe("multi\nline 'quoted' $x|before\nnow|");
    const off = await t.remote({
      connection: direct(envHost),
      command: 'printf "[%s]" "$PULUMI_COMMAND_STDOUT"',
      previous: { stdout: "before", stderr: "" },
      addPreviousOutputInEnv: false,
    });
    expect(off.stdout).toBe("[]");

    // PULUMI_COMMAND_* refused: a warning, and the command runs.
    lines.length = 0;
    const warned = await t.remote({
      connection: direct(proxy),
      command: 'printf "[%s]" "$PULUMI_COMMAND_STDOUT"',
      previous: { stdout: "before", stderr: "" },
      log: (l) => lines.push(l),
    });
    expect(warned.stdout).toBe("[]");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: Unable to set 'PULUMI_COMMAND_STDOUT'\./);
  });

  test("the counter counts commands that ran, not dials or probes", async () => {
    const before = counter.commands;
    await t.remote({ connection: direct(envHost), command: "true", environment: { FOO: "x" } });
    await failure(t.remote({ connection: direct(proxy), command: "exit 1" }));
    await failure(
      t.remote({ connection: direct(proxy, { port: 2999, dialErrorLimit: 0 }), command: "true" }),
    );
    await failure(
      t.remote({ connection: direct(proxy), command: "true", environment: { BAR: "x" } }),
    );
    expect(counter.commands - before).toBe(2);
  });

  test("timeoutMs bounds the run: while dialing, and while the command runs", async () => {
    // A listener that accepts and never speaks: OpenSSH waits for its banner.
    const silent = spawn(
      "nsenter",
      [
        `--net=/run/netns/${px.name}`,
        process.execPath,
        "-e",
        `require("net").createServer(() => {}).listen(2500, "${PROXY}", () => console.log("up"))`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    children.push(silent);
    await new Promise((r) => silent.stdout?.once("data", r));
    let started = Date.now();
    const dialing = await failure(
      t.remote({ connection: direct(proxy, { port: 2500 }), command: "true", timeoutMs: 1500 }),
    );
    expect(dialing).toBeInstanceOf(TimedOut);
    expect(dialing.message).toBe("context deadline exceeded");
    expect(Date.now() - started).toBeLessThan(2500);
    silent.kill("SIGKILL");

    started = Date.now();
    const running = await failure(
      t.remote({ connection: direct(proxy), command: "echo started; sleep 30", timeoutMs: 1500 }),
    );
    expect(running).toBeInstanceOf(TimedOut);
    expect(running.message).toBe(
      'context deadline exceeded: running "echo started; sleep 30":\nstarted\n',
    );
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe("local.Command", () => {
  const env = {
    PATH: process.env.PATH,
    A: "provider",
    B: "provider",
    PULUMI_COMMAND_STDOUT: "provider",
  };
  let local: Transport;
  beforeAll(() => {
    local = sshTransport({ netns: op.name, env, tmpDir: runs });
  });

  test("runs in the operator's namespace, with stdin, trimmed once", async () => {
    const r = await local.local({
      command: "cat; grep -o 'eth-[a-z]*' /proc/net/dev; echo err >&2",
      stdin: "in\n\n",
    });
    expect(r).toEqual({ stdout: "in\n\neth-px", stderr: "err" });
  });

  test("environment: the provider's, then `environment`, then PULUMI_COMMAND_*", async () => {
    const command =
      'printf "%s %s %s %s" "$A" "$B" "$PULUMI_COMMAND_STDOUT" "$PULUMI_COMMAND_STDERR"';
    const r = await local.local({
      command,
      environment: { B: "environment", PULUMI_COMMAND_STDOUT: "environment" },
      previous: { stdout: "previous", stderr: "" },
    });
    expect(r.stdout).toBe("provider environment previous ");
    const off = await local.local({
      command,
      environment: { B: "environment", PULUMI_COMMAND_STDOUT: "environment" },
      previous: { stdout: "previous", stderr: "old" },
      addPreviousOutputInEnv: false,
    });
    expect(off.stdout).toBe("provider environment environment ");
  });

  test("dir and interpreter", async () => {
    const dir = join(tmp.path, "work");
    mkdirSync(dir, { recursive: true });
    expect((await local.local({ command: "pwd", dir })).stdout).toBe(dir);
    expect((await local.local({ command: "pwd" })).stdout).toBe(process.cwd());
    const bash = await local.local({
      command: 'echo "${BASH_VERSION:+bash}"',
      interpreter: ["bash", "-c"],
    });
    expect(bash.stdout).toBe("bash");
    const py = await local.local({ command: "ignored", interpreter: ["/bin/echo", "args:"] });
    expect(py.stdout).toBe("args: ignored");
  });

  test("failures in os/exec's words", async () => {
    const exit = await failure(local.local({ command: "echo o; exit 4" }));
    expect(exit).toBeInstanceOf(CommandFailed);
    expect(exit.message).toBe('exit status 4: running "echo o; exit 4":\no\n');
    const dir = await failure(local.local({ command: "true", dir: "/nonexistent-dir" }));
    expect(dir.message).toBe(
      'chdir /nonexistent-dir: no such file or directory: running "true":\n',
    );
    const sh = await failure(local.local({ command: "true", interpreter: ["no-such-shell"] }));
    expect(sh.message).toBe(
      'exec: "no-such-shell": executable file not found in $PATH: running "true":\n',
    );
  });

  test("timeoutMs kills the command and everything it started", async () => {
    const started = Date.now();
    const e = await failure(
      local.local({ command: "sleep 31.4159 & sleep 31.4159; wait", timeoutMs: 800 }),
    );
    expect(e.message).toBe('signal: killed: running "sleep 31.4159 & sleep 31.4159; wait":\n');
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(processes().filter((p) => p.cmdline.includes("31.4159"))).toEqual([]);
  });
});
