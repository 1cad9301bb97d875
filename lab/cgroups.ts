// A cgroup of its own for each systemd host. With --keep-unit and no systemd on this machine,
// systemd-nspawn runs the container in a "payload" cgroup below its own, so every host started
// from the same process landed in the same one: twenty systemds shared one tree, and one host's
// user-1000.slice was removed under another's ("Failed to attach to cgroup
// /user.slice/user-1000.slice/…: No such file or directory", hosts left degraded), and a unit
// stopped on one host is a cgroup every other host's unit of that name is in too. Each host's
// nspawn is moved into <this process's cgroup>/clawd-mesh-lab/<netns> first, in the hierarchies
// that track processes only (cgroup2's, and the named systemd one on a hybrid machine), so
// resource controllers and their limits stay as they are.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { pause } from "./host";

const LAB_CGROUP = "clawd-mesh-lab";

/** The lab's cgroup folder in each process-tracking hierarchy this machine mounts. */
function labCgroups(): string[] {
  const own = readFileSync("/proc/self/cgroup", "utf8").split("\n");
  // Lines are ID:CONTROLLERS:PATH; cgroup2's has no controllers.
  const pathIn = (controllers: string) =>
    own.find((l) => l.split(":")[1] === controllers)?.replace(/^[^:]*:[^:]*:/, "");
  const hierarchies: [string, string | undefined][] = existsSync(
    "/sys/fs/cgroup/cgroup.controllers",
  )
    ? [["/sys/fs/cgroup", pathIn("")]]
    : [
        ["/sys/fs/cgroup/systemd", pathIn("name=systemd")],
        ["/sys/fs/cgroup/unified", pathIn("")],
      ];
  return hierarchies.flatMap(([mount, path]) =>
    path !== undefined && existsSync(join(mount, "cgroup.procs"))
      ? [join(mount, path, LAB_CGROUP)]
      : [],
  );
}

/** Made for a host: its nspawn writes its own pid into each one's cgroup.procs before exec. */
export function hostCgroups(netns: string): string[] {
  const dirs = labCgroups().map((dir) => join(dir, netns));
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  return dirs;
}

/**
 * Removes cgroup folders (rmdir only: their files are the kernel's), innermost first, once
 * their processes have ended; a killed process may take a moment to leave. One left behind is
 * empty and harmless, so this gives up quietly at the deadline.
 */
function removeTree(dir: string, deadline: number): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name), deadline);
  }
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      if (Date.now() > deadline) return;
      pause(50);
    }
  }
}

const REMOVE_MS = 2000;

export function removeHostCgroups(netns: string): void {
  const deadline = Date.now() + REMOVE_MS;
  for (const dir of labCgroups()) removeTree(join(dir, netns), deadline);
}

/** Every host's, after `lab down` has ended their processes. */
export function removeLabCgroups(): void {
  const deadline = Date.now() + REMOVE_MS;
  for (const dir of labCgroups()) removeTree(dir, deadline);
}
