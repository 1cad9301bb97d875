// Removes what the lab made, as its state file lists it: processes in its namespaces, the
// namespaces, its mounts and its folders. Nothing it did not record is touched.
import { existsSync, rmSync } from "node:fs";
import { removeLabCgroups } from "./cgroups";
import { exec } from "./exec";
import { join } from "node:path";
import { LAB_ROOT, readState, stateFile } from "./state";

/** The lab's own files: its hosts' record, its assignments, the clouds' and the engine's state. */
export function removeLabFiles(): void {
  const files = [
    "site.json",
    "twin.json",
    "fleet.json",
    "cloud.json",
    "dns.json",
    "engine",
    "agent",
  ];
  for (const name of [...files, "standins"]) {
    rmSync(join(LAB_ROOT, name), { recursive: true, force: true });
  }
}

export function labDown(log: (line: string) => void): boolean {
  const state = readState();
  if (!state) {
    log("no lab is up");
    return false;
  }
  for (const ns of [...state.netns].reverse()) {
    const pids = exec("ip", ["netns", "pids", ns]).stdout.split("\n").filter(Boolean);
    if (pids.length > 0) exec("kill", ["-KILL", ...pids]);
  }
  removeLabCgroups();
  for (const ns of [...state.netns].reverse()) exec("ip", ["netns", "del", ns]);
  for (const mount of [...state.mounts].reverse()) exec("umount", ["-l", mount]);
  for (const dir of state.dirs) if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  removeLabFiles();
  log(`lab of stack ${state.stack} removed: ${state.netns.length} namespaces`);
  return true;
}
