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
  /** The rollback window the lab was brought up with: later runs on it keep it. */
  windowSeconds?: number;
}

export function readState(): LabState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, "utf8")) as LabState;
}

/**
 * Records what the lab makes. Read and written whole at every change: the lab's engine runs in
 * processes of its own, and each one adds to (or removes from) the same record.
 */
export class StateRecorder {
  constructor(private state: LabState) {
    mkdirSync(LAB_ROOT, { recursive: true });
    this.save();
  }

  /** The record of the lab that is up, to go on adding to it (and removing from it). */
  static open(): StateRecorder {
    const state = readState();
    if (!state) throw new Error("no lab is up: npm run lab -- --stack <stack> --keep");
    return new StateRecorder(state);
  }

  window(seconds: number): void {
    this.change((s) => (s.windowSeconds = seconds));
  }

  netns(name: string): void {
    this.change((s) => s.netns.push(name));
  }

  mount(path: string): void {
    this.change((s) => s.mounts.push(path));
  }

  dir(path: string): void {
    this.change((s) => s.dirs.push(path));
  }

  /** Drops what was removed already (a host destroyed mid-run): names and paths alike. */
  forget(...entries: string[]): void {
    const keep = (list: string[]) => list.filter((x) => !entries.includes(x));
    this.change((s) => {
      s.netns = keep(s.netns);
      s.mounts = keep(s.mounts);
      s.dirs = keep(s.dirs);
    });
  }

  private change(edit: (s: LabState) => void): void {
    this.state = readState() ?? this.state;
    edit(this.state);
    this.save();
  }

  private save(): void {
    writeFileSync(STATE_FILE, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

export const stateFile = STATE_FILE;
