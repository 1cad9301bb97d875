// A lab host that boots real systemd: the Debian 12 root scripts/lab-image.sh builds, under
// systemd-nspawn in the host's network namespace, on an overlay of its own (in memory) so hosts
// share nothing writable. The push then takes the path production takes: systemd-run's
// rollback timer, wg-quick@wg0, nftables.service, the ssh service's reload, the role units.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync } from "node:fs";
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hostCgroups, removeHostCgroups } from "./cgroups";
import { exec, must } from "./exec";
import { LabHost, pause, WIREGUARD_GO_WRAPPER, type HostInit } from "./host";
import type { Link } from "./network";
import { LAB_ROOT, type StateRecorder } from "./state";

const IMAGE_SCRIPT = resolve(__dirname, "..", "scripts", "lab-image.sh");
/**
 * The most a boot may take: a bound for a stuck one, not the expected time (a second or two
 * alone, much longer while a whole fleet boots and pushes on two cores).
 */
const BOOT_BOUND_SECONDS = 300;
/**
 * inotify instances are counted per user, machine-wide, and every host's systemd, journald,
 * logind, dbus and path units run as this machine's root (no user namespace). Debian's default
 * of 128 ran out at prod's 20th host: its systemd exited ("Failed to allocate manager object:
 * Too many open files"), and `systemctl daemon-reload` failed on hosts already up, mid-push.
 * Room for a few hundred hosts; raised when lower, never lowered.
 */
const INOTIFY_INSTANCES = 8192;
const INOTIFY_LIMIT = "/proc/sys/fs/inotify/max_user_instances";

/** What `systemctl is-system-running` says once startup is over; degraded: a unit failed. */
const BOOTED = ["running", "degraded"];

/** The image's root: built on first use (about 25 s), then taken from the cache. */
export function labImage(): string {
  return must(IMAGE_SCRIPT, []).trim();
}

/** A process that has not ended (a zombie has, though its parent has not reaped it yet). */
function running(pid: string): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function commOf(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined; // it ended meanwhile
  }
}

function allowInotify(): void {
  if (Number(readFileSync(INOTIFY_LIMIT, "utf8")) < INOTIFY_INSTANCES) {
    writeFileSync(INOTIFY_LIMIT, `${INOTIFY_INSTANCES}\n`);
  }
}

export class SystemdHost extends LabHost {
  override get init(): HostInit {
    return "systemd";
  }

  /** The host's root as its processes see it. */
  get top(): string {
    return join(this.root, "top");
  }

  /** The pid (in this machine's view) of the host's systemd. */
  get leader(): string {
    return readFileSync(join(this.root, "leader"), "utf8").trim();
  }

  /** A host an earlier process booted, to run in or destroy. */
  static override open(
    name: string,
    netns: string,
    state: StateRecorder,
    links: Link[] = [],
  ): SystemdHost {
    const host = Object.create(SystemdHost.prototype) as SystemdHost;
    const root = join(LAB_ROOT, "hosts", netns);
    Object.assign(host, { name, netns, state, root, mountFile: "", links });
    return host;
  }

  /**
   * Boots a new host; resolves once its systemd reports the boot finished. Asynchronous, so an
   * engine booting many instances at once keeps serving its other resources meanwhile.
   */
  static async boot(name: string, netns: string, state: StateRecorder): Promise<SystemdHost> {
    const image = labImage();
    const host = SystemdHost.open(name, netns, state);
    must("ip", ["netns", "add", netns]);
    state.netns(netns);
    try {
      allowInotify();
      host.mountRoot(image, state);
      const deadline = Date.now() + BOOT_BOUND_SECONDS * 1000;
      host.launch(deadline);
      await host.booted(deadline);
    } catch (error) {
      host.destroy(); // a failed boot leaves nothing behind
      throw error;
    }
    return host;
  }

  private mountRoot(image: string, state: StateRecorder): void {
    mkdirSync(this.root, { recursive: true });
    state.dir(this.root);
    // The upper layer in memory, as the plain hosts' files: made and removed at once.
    must("mount", ["-t", "tmpfs", "-o", "size=1g,mode=755", "cml-host", this.root]);
    state.mount(this.root);
    for (const dir of ["upper", "work", "top"]) mkdirSync(join(this.root, dir));
    const layers = `lowerdir=${image},upperdir=${join(this.root, "upper")},workdir=${join(this.root, "work")}`;
    must("mount", ["-t", "overlay", "-o", layers, "cml-overlay", this.top]);
    state.mount(this.top);
    writeFileSync(this.path("/usr/local/sbin/wireguard-go"), WIREGUARD_GO_WRAPPER, {
      mode: 0o755,
    });
  }

  /** Starts systemd-nspawn on the host's root; returns once the host's systemd exists. */
  private launch(deadline: number): void {
    const standins = join(LAB_ROOT, "standins");
    mkdirSync(standins, { recursive: true });
    const console = openSync(join(this.root, "console.log"), "a");
    // The shell moves itself into the host's own cgroup, then becomes nspawn (lab/cgroups.ts).
    const enterCgroups =
      'for g in $CML_CGROUPS; do echo $$ >"$g/cgroup.procs" || exit 1; done; exec "$@"';
    const nspawn = spawn(
      "sh",
      [
        "-c",
        enterCgroups,
        "sh",
        "systemd-nspawn",
        "--quiet",
        // This machine runs no systemd to register with, nor a unit to put the host in.
        "--register=no",
        "--keep-unit",
        `--directory=${this.top}`,
        `--network-namespace-path=/run/netns/${this.netns}`,
        `--machine=${this.name}`,
        // nspawn keeps CAP_NET_ADMIN only for a network it made itself (--private-network):
        // without it, nothing systemd starts (sshd, wg-quick, nftables) may touch the network.
        "--capability=CAP_NET_ADMIN",
        // wireguard-go's tun device; Node and the stand-ins' servers, as the plain hosts see them.
        "--bind=/dev/net/tun",
        `--bind-ro=${realpathSync(process.execPath)}`,
        `--bind-ro=${standins}`,
        "--boot",
      ],
      {
        detached: true,
        stdio: ["ignore", console, console],
        // The same for /proc/sys/net (the push's sysctls): read-only unless nspawn made the
        // network, though the namespace is the host's own either way.
        env: {
          ...process.env,
          SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network",
          CML_CGROUPS: hostCgroups(this.netns).join(" "),
        },
      },
    );
    closeSync(console);
    nspawn.unref();
    writeFileSync(join(this.root, "nspawn"), `${nspawn.pid}\n`);
    // nspawn's first child sets up the mounts and exits; the one that execs systemd stays.
    let leader: string | undefined;
    while (!leader && Date.now() < deadline) {
      const children = join("/proc", String(nspawn.pid), "task", String(nspawn.pid), "children");
      if (!existsSync(children)) {
        throw new Error(`systemd-nspawn for ${this.name} ended:\n${this.console()}`);
      }
      leader = readFileSync(children, "utf8")
        .split(/\s+/)
        .find((pid) => pid !== "" && commOf(pid) === "systemd");
      if (!leader) pause(50);
    }
    if (!leader) throw new Error(`lab host ${this.name} started no systemd:\n${this.console()}`);
    writeFileSync(join(this.root, "leader"), `${leader}\n`);
  }

  /**
   * Waits for systemd's own word that the boot is over (`is-system-running --wait` returns when
   * startup has finished: every boot job done, successful or not), not for a fixed time: under
   * load a boot takes longer, and the bound is only there so a stuck one ends.
   */
  private async booted(deadline: number): Promise<void> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const r = await this.runAsync("systemctl", ["is-system-running", "--wait"], {
        timeoutMs: left,
      });
      if (BOOTED.includes(r.stdout.trim())) return;
      // Before systemd listens on its private bus, systemctl cannot ask it anything yet.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw this.notBooted();
  }

  /** The same wait, blocking: for a reboot, which a test asks for and waits on alone. */
  private bootedSync(deadline: number): void {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const r = this.try("systemctl", ["is-system-running", "--wait"], { timeoutMs: left });
      if (BOOTED.includes(r.stdout.trim())) return;
      pause(200);
    }
    throw this.notBooted();
  }

  /** What the boot still waits on, and the console's last lines. */
  private notBooted(): Error {
    const jobs = this.try("systemctl", ["list-jobs", "--no-pager"]).stdout.trim();
    return new Error(
      `lab host ${this.name} did not finish booting in ${BOOT_BOUND_SECONDS} s ` +
        `(load ${readFileSync("/proc/loadavg", "utf8").trim()}); jobs left:\n${jobs}\n` +
        `console:\n${this.console()}`,
    );
  }

  /**
   * Reboots the host as `systemctl reboot` does on a machine: systemd stops every service,
   * nspawn ends (status 133), and the host boots again on its overlay, with a new /run and
   * /tmp. Returns the seconds from the reboot to systemd's targets reached again.
   */
  reboot(): number {
    const started = Date.now();
    const nspawn = readFileSync(join(this.root, "nspawn"), "utf8").trim();
    this.try("systemctl", ["reboot"]);
    const deadline = Date.now() + BOOT_BOUND_SECONDS * 1000;
    while (running(nspawn)) {
      if (Date.now() > deadline) throw new Error(`lab host ${this.name} did not stop to reboot`);
      pause(50);
    }
    this.launch(deadline);
    this.bootedSync(deadline);
    return (Date.now() - started) / 1000;
  }

  private console(): string {
    const file = join(this.root, "console.log");
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-20).join("\n") : "";
  }

  override destroy(): void {
    for (const link of this.links.splice(0)) link.detach();
    const nspawn = join(this.root, "nspawn");
    if (existsSync(nspawn)) exec("kill", ["-KILL", readFileSync(nspawn, "utf8").trim()]);
    this.killAll();
    removeHostCgroups(this.netns);
    for (const mount of [this.top, this.root]) {
      if (exec("mountpoint", ["-q", mount]).status === 0) must("umount", [mount]);
    }
    must("ip", ["netns", "del", this.netns]);
    rmSync(this.root, { recursive: true, force: true });
    this.state.forget(this.netns, this.top, this.root);
  }

  override path(inside: string): string {
    if (!inside.startsWith("/")) throw new Error(`${inside} is not an absolute path`);
    return join(this.top, inside);
  }

  /** Into every namespace of the host's systemd: its mounts, its network, its cgroups. */
  protected override enter(command: string, args: readonly string[]): string[] {
    return ["-t", this.leader, "-a", command, ...args];
  }
}
