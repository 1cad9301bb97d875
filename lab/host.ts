// A lab host: a network namespace, and a persistent mount namespace in which /etc, /run,
// /home, /root, /tmp, /opt, /var/log and every folder a push writes are the host's own. The
// push scripts, sshd, useradd and wireguard-go then write only there, and two hosts can both
// have a wg0 (wireguard-go's socket lives in /run/wireguard).
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LIBEXEC } from "../core/plan/roles";
import { exec, execAsync, must, type ExecOptions, type Ran } from "./exec";
import { LAB_ROOT, type StateRecorder } from "./state";

const PRIVATE_DIRS: [string, string][] = [
  ["etc", "/etc"],
  ["home", "/home"],
  ["root", "/root"],
  ["varlib", "/var/lib/clawd-mesh"],
  ["vault", "/var/lib/clavitor"],
  ["sbin", "/usr/local/sbin"],
  // The helpers' folder only: the machine's Node (the stand-ins' interpreter) may live in
  // /usr/local/lib, and a host must still see it.
  ["libexec", LIBEXEC],
  ["opt", "/opt"],
  ["log", "/var/log"],
  ["tmp", "/tmp"],
  // Last: the lab's own files are reachable until this one hides the host's /run.
  ["run", "/run"],
];

export class LabHost {
  readonly root: string;
  private readonly mountFile: string;

  constructor(
    readonly name: string,
    readonly netns: string,
    state: StateRecorder,
  ) {
    this.root = join(LAB_ROOT, "hosts", name);
    this.mountFile = join(this.root, "ns", "mnt");
    must("ip", ["netns", "add", netns]);
    state.netns(netns);
    must("ip", ["-n", netns, "link", "set", "lo", "up"]);
    for (const [dir] of PRIVATE_DIRS) mkdirSync(join(this.root, dir), { recursive: true });
    mkdirSync(join(this.root, "ns"), { recursive: true });
    state.dir(this.root);
    cpSync("/etc", join(this.root, "etc"), { recursive: true, verbatimSymlinks: true });
    // A persistent mount namespace is a bind mount of /proc/PID/ns/mnt on a file, which has to
    // live on a private mount.
    must("mount", ["--bind", join(this.root, "ns"), join(this.root, "ns")]);
    state.mount(join(this.root, "ns"));
    must("mount", ["--make-private", join(this.root, "ns")]);
    writeFileSync(this.mountFile, "");
    const binds = PRIVATE_DIRS.map(
      ([dir, target]) => `mkdir -p ${target} && mount --bind ${join(this.root, dir)} ${target}`,
    ).join(" && ");
    must("unshare", [`--mount=${this.mountFile}`, "--propagation", "private", "sh", "-c", binds]);
    state.mount(this.mountFile);
    this.run("chmod", ["1777", "/tmp"]);
    this.run("mkdir", ["-p", "/run/sshd", "/root/.ssh"]);
  }

  /** Runs a command inside the host: its network and its mounts. */
  run(command: string, args: readonly string[], o: ExecOptions = {}): string {
    return must("nsenter", this.enter(command, args), o);
  }

  try(command: string, args: readonly string[], o: ExecOptions = {}): Ran {
    return exec("nsenter", this.enter(command, args), o);
  }

  runAsync(command: string, args: readonly string[], o: ExecOptions = {}): Promise<Ran> {
    return execAsync("nsenter", this.enter(command, args), o);
  }

  /** A file of the host, by its path inside the host. */
  path(inside: string): string {
    for (const [dir, target] of PRIVATE_DIRS) {
      if (inside === target || inside.startsWith(`${target}/`)) {
        return join(this.root, dir, inside.slice(target.length));
      }
    }
    throw new Error(`${inside} is not private to lab host ${this.name}`);
  }

  private enter(command: string, args: readonly string[]): string[] {
    return [`--mount=${this.mountFile}`, `--net=/run/netns/${this.netns}`, command, ...args];
  }
}
