// Real sshd instances in throwaway network namespaces, for the transport's system tests. Each
// runs in a private mount namespace where root's ~/.bashrc reads as empty (a host's shell start-up
// would only slow every session down) and, when asked, /etc/shadow holds a known root password.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "./run";

export interface SshServer {
  readonly address: string;
  readonly port: number;
  /** The host key as an authorized_keys line. */
  readonly hostKey: string;
  /** TCP connections sshd has accepted so far (its VERBOSE log). */
  connections(): number;
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  readonly netns: string;
  readonly address: string;
  readonly port: number;
  /** A folder of the test's own for this server's files. */
  readonly dir: string;
  readonly authorizedKeys: string;
  readonly acceptEnv?: readonly string[];
  /** Root may log in with this password (PermitRootLogin yes). */
  readonly rootPassword?: string;
  /** Reuse a host key (its private key file); a fresh ed25519 key otherwise. */
  readonly hostKeyFile?: string;
}

export function newKey(dir: string, name: string, passphrase = ""): { file: string; pub: string } {
  const file = join(dir, name);
  // The passphrase is a throwaway test value; the transport itself never puts one in argv.
  runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", file]);
  return { file, pub: readFileSync(`${file}.pub`, "utf8").trim() };
}

export async function startSshd(o: SshdOptions): Promise<SshServer> {
  mkdirSync(o.dir, { recursive: true });
  mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege-separation directory
  const hostKeyFile = o.hostKeyFile ?? newKey(o.dir, "host").file;
  const authorized = join(o.dir, "authorized_keys");
  writeFileSync(authorized, `${o.authorizedKeys}\n`, { mode: 0o600 });
  const logFile = join(o.dir, "sshd.log");
  writeFileSync(logFile, "");
  const config = join(o.dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${o.port}`,
      `ListenAddress ${o.address}`,
      `HostKey ${hostKeyFile}`,
      "PidFile none",
      `AuthorizedKeysFile ${authorized}`,
      // The test's files live under /tmp, which StrictModes would refuse.
      "StrictModes no",
      `PermitRootLogin ${o.rootPassword ? "yes" : "prohibit-password"}`,
      `PasswordAuthentication ${o.rootPassword ? "yes" : "no"}`,
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "UseDNS no",
      "LogLevel VERBOSE",
      ...(o.acceptEnv && o.acceptEnv.length > 0 ? [`AcceptEnv ${o.acceptEnv.join(" ")}`] : []),
      "",
    ].join("\n"),
  );
  const mounts: string[] = [];
  if (existsSync("/root/.bashrc")) {
    const empty = join(o.dir, "empty");
    writeFileSync(empty, "");
    mounts.push(`mount --bind ${empty} /root/.bashrc`);
  }
  if (o.rootPassword) {
    const hash = runOk("openssl", ["passwd", "-6", "-stdin"], { input: o.rootPassword }).trim();
    const shadow = join(o.dir, "shadow");
    writeFileSync(shadow, `root:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
    chmodSync(shadow, 0o600);
    mounts.push(`mount --bind ${shadow} /etc/shadow`);
  }
  const child: ChildProcess = spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      [...mounts, 'exec "$@"'].join(" && "),
      "sshd-in-netns",
      "nsenter",
      `--net=/run/netns/${o.netns}`,
      "/usr/sbin/sshd",
      "-D",
      "-f",
      config,
      "-E",
      logFile,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const log = () => readFileSync(logFile, "utf8");
  for (let i = 0; i < 100 && !/Server listening on/.test(log()); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!/Server listening on/.test(log())) {
    child.kill("SIGKILL");
    throw new Error(`sshd did not start in ${o.netns}: ${stderr}${log()}`);
  }
  const pub = readFileSync(`${hostKeyFile}.pub`, "utf8").trim();
  return {
    address: o.address,
    port: o.port,
    hostKey: pub,
    connections: () => (log().match(/Connection from /g) ?? []).length,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Stops every process left in a namespace (sshd's session children), then removes it. */
export function removeNetns(name: string): void {
  const pids = run("ip", ["netns", "pids", name]).stdout.split("\n").filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  run("ip", ["netns", "del", name]);
}

/** A veth pair between two namespaces, addressed /30, links up. */
export function link(
  a: { netns: string; ifname: string; address: string },
  b: { netns: string; ifname: string; address: string },
): void {
  runOk("ip", [
    "link",
    "add",
    a.ifname,
    "netns",
    a.netns,
    "type",
    "veth",
    "peer",
    "name",
    b.ifname,
    "netns",
    b.netns,
  ]);
  for (const end of [a, b]) {
    runOk("ip", ["-n", end.netns, "addr", "add", `${end.address}/30`, "dev", end.ifname]);
    runOk("ip", ["-n", end.netns, "link", "set", end.ifname, "up"]);
    runOk("ip", ["-n", end.netns, "link", "set", "lo", "up"]);
  }
}
