// Throwaway network namespaces for tests. Each has only loopback, so nothing a test starts
// in one can send a packet anywhere else.
import { run, runOk } from "./run";

let counter = 0;

export interface Netns {
  readonly name: string;
  exec(command: string, args: readonly string[], input?: string): string;
  remove(): void;
}

export function createNetns(purpose: string): Netns {
  const name = `cmt-${purpose}-${process.pid}-${counter++}`;
  runOk("ip", ["netns", "add", name]);
  return {
    name,
    exec: (command, args, input) =>
      runOk("ip", ["netns", "exec", name, command, ...args], input === undefined ? {} : { input }),
    remove: () => void run("ip", ["netns", "del", name]),
  };
}

/** wireguard-go refuses to start where the kernel module is advertised unless told to. */
export const WIREGUARD_GO_ENV = {
  ...process.env,
  WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1",
};
