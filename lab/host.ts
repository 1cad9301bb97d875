// A lab host: a network namespace, and a persistent mount namespace in which /etc, /run,
// /home, /root, /tmp, /opt, /var/log and every folder a push writes are the host's own. The
// push scripts, sshd, useradd and wireguard-go then write only there, and two hosts can both
// have a wg0 (wireguard-go's socket lives in /run/wireguard). A host can be destroyed at any
// time and leaves nothing behind.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LIBEXEC } from "../core/plan/roles";
import { exec, execAsync, must, type ExecOptions, type Ran } from "./exec";
import type { Internet, Link } from "./network";
import { LAB_ROOT, type StateRecorder } from "./state";

/** wireguard-go refuses to run where the kernel module is advertised, unless told to. */
export const WIREGUARD_GO_WRAPPER =
  '#!/bin/sh\n# Lab only: this machine has no WireGuard kernel module.\nWG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 exec /usr/bin/wireguard-go "$@"\n';

const PRIVATE_DIRS: [string, string][] = [
  ["etc", "/etc"],
  ["home", "/home"],
  ["root", "/root"],
  ["varlib", "/var/lib/clawd-mesh"],
  ["vault", "/var/lib/clavitor"],
  ["rancher", "/var/lib/rancher"],
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

/**
 * What runs as a host's first process: nothing (`plain`: sshd started by hand, the push's
 * init-less path) or systemd, booted under systemd-nspawn (lab/systemdHost.ts).
 */
export type HostInit = "plain" | "systemd";

/** Blocks the thread for `ms`, between synchronous steps. */
export function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The first `<prefix><n>` that names no network namespace, for hosts made mid-run. */
export function unusedNetns(prefix: string): string {
  for (let n = 0; n < 1000; n++) {
    if (!existsSync(`/run/netns/${prefix}${n}`)) return `${prefix}${n}`;
  }
  throw new Error(`no free network namespace name ${prefix}0 to ${prefix}999`);
}

export class LabHost {
  readonly root: string;
  protected readonly mountFile: string;
  protected readonly links: Link[] = [];

  /** A host an earlier process made, with its link to the internet, to run in or destroy. */
  static open(name: string, netns: string, state: StateRecorder, links: Link[] = []): LabHost {
    const host = Object.create(LabHost.prototype) as LabHost;
    const root = join(LAB_ROOT, "hosts", netns);
    Object.assign(host, { name, netns, state, root, mountFile: join(root, "ns", "mnt"), links });
    return host;
  }

  constructor(
    readonly name: string,
    readonly netns: string,
    protected readonly state: StateRecorder,
  ) {
    // By namespace, not by name: a replacement may boot under the same name before the old
    // host is destroyed.
    this.root = join(LAB_ROOT, "hosts", netns);
    this.mountFile = join(this.root, "ns", "mnt");
    must("ip", ["netns", "add", netns]);
    state.netns(netns);
    must("ip", ["-n", netns, "link", "set", "lo", "up"]);
    // The host's files live in memory: made and removed at once, where thousands of small files
    // on this machine's disk take a second each way. Private, because a persistent mount
    // namespace (a bind mount of /proc/PID/ns/mnt on a file) must live on a private mount.
    mkdirSync(this.root, { recursive: true });
    state.dir(this.root);
    must("mount", [
      "-t",
      "tmpfs",
      "--make-private",
      "-o",
      "size=1g,mode=755",
      "cml-host",
      this.root,
    ]);
    state.mount(this.root);
    for (const [dir] of PRIVATE_DIRS) mkdirSync(join(this.root, dir));
    mkdirSync(join(this.root, "ns"));
    // Not the machine's own SSH host keys: a host gets keys of its own or none.
    cpSync("/etc", join(this.root, "etc"), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => !/^\/etc\/ssh\/ssh_host_/.test(source),
    });
    writeFileSync(this.mountFile, "");
    const binds = PRIVATE_DIRS.map(
      ([dir, target]) => `mkdir -p ${target} && mount --bind ${join(this.root, dir)} ${target}`,
    );
    const setUp = [...binds, "chmod 1777 /tmp", "mkdir -p /run/sshd /root/.ssh"].join(" && ");
    must("unshare", [`--mount=${this.mountFile}`, "--propagation", "private", "sh", "-c", setUp]);
    state.mount(this.mountFile);
    // Part of the machine rather than of any image: every host needs it for wg-quick.
    writeFileSync(this.path("/usr/local/sbin/wireguard-go"), WIREGUARD_GO_WRAPPER, { mode: 0o755 });
  }

  get init(): HostInit {
    return "plain";
  }

  /** Its links to the internet (one, unless a test plugged more). */
  get ports(): readonly Link[] {
    return this.links;
  }

  /** Plugs the host into the internet; destroy() unplugs it. */
  plugInto(internet: Internet, address: string): Link {
    const link = internet.attach(this.netns, address);
    this.links.push(link);
    return link;
  }

  /**
   * Removes the host at any time, as a deleted instance goes: its processes, its link to the
   * internet, its mounts, namespace and folder, and its entries in the lab's record.
   */
  destroy(): void {
    for (const link of this.links.splice(0)) link.detach();
    this.killAll();
    must("umount", [this.mountFile]);
    must("umount", [this.root]);
    must("ip", ["netns", "del", this.netns]);
    rmSync(this.root, { recursive: true, force: true });
    this.state.forget(this.netns, this.mountFile, this.root);
  }

  /** Ends every process in the host's network namespace. */
  protected killAll(): void {
    for (let i = 0; ; i++) {
      const pids = must("ip", ["netns", "pids", this.netns]).split("\n").filter(Boolean);
      if (pids.length === 0) break;
      if (i === 20) throw new Error(`processes of lab host ${this.name} survive SIGKILL`);
      exec("kill", ["-KILL", ...pids]);
      pause(50);
    }
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

  protected enter(command: string, args: readonly string[]): string[] {
    return [`--mount=${this.mountFile}`, `--net=/run/netns/${this.netns}`, command, ...args];
  }
}
