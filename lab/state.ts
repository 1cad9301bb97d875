// What the lab made, written down the moment it exists, so that `lab down` removes exactly
// that — and never a namespace or mount it did not create.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LAB_ROOT = "/var/lib/clawd-mesh-lab";
const STATE_FILE = join(LAB_ROOT, "state.json");

export interface LabState {
  stack: string;
  netns: string[];
  /** Bind mounts to undo, most recent last. */
  mounts: string[];
  dirs: string[];
}

export function readState(): LabState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, "utf8")) as LabState;
}

export class StateRecorder {
  constructor(private readonly state: LabState) {
    mkdirSync(LAB_ROOT, { recursive: true });
    this.save();
  }

  netns(name: string): void {
    this.state.netns.push(name);
    this.save();
  }

  mount(path: string): void {
    this.state.mounts.push(path);
    this.save();
  }

  dir(path: string): void {
    this.state.dirs.push(path);
    this.save();
  }

  /** Drops what was removed already (a host destroyed mid-run): names and paths alike. */
  forget(...entries: string[]): void {
    const keep = (list: string[]) => list.filter((x) => !entries.includes(x));
    this.state.netns = keep(this.state.netns);
    this.state.mounts = keep(this.state.mounts);
    this.state.dirs = keep(this.state.dirs);
    this.save();
  }

  private save(): void {
    writeFileSync(STATE_FILE, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

export const stateFile = STATE_FILE;
