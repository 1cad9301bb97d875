// A drift check from the operator's machine: each node's state read over its management path
// (whatever runs `ssh`: the operator's ssh_config, or the lab's) and compared with what the
// program renders. Nodes are read in parallel; nothing is written anywhere.
import type { Fleet } from "../core/fleet/fleet";
import { compareNode, type NodeDrift } from "../core/drift/compare";
import { expectedDigests, type DeployedNode } from "../core/drift/expected";
import { parseNodeState } from "../core/drift/state";

export interface Answer {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut?: boolean;
}

/** Runs STATE_COMMAND on a node over its management path. */
export type ReadNode = (node: string) => Promise<Answer>;

/** ssh's own failures (no route, refused, host key, authentication) exit 255. */
const SSH_FAILED = 255;

/**
 * Reads of a node that ssh itself failed (exit 255) before it is called unreachable, and the
 * pause between them: a connection closed before the key exchange (an sshd reloading, a hop
 * past its MaxStartups) passes in a moment. A read that timed out is not tried again: it
 * waited long enough.
 */
export const DRIFT_READS = 3;
const RETRY_PAUSE_MS = 2000;

export async function checkDrift(
  fleet: Fleet,
  deployed: Readonly<Record<string, DeployedNode | undefined>>,
  read: ReadNode,
  pauseMs = RETRY_PAUSE_MS,
): Promise<NodeDrift[]> {
  const expected = expectedDigests(fleet, deployed);
  return Promise.all(
    fleet.nodes.map(async ({ name }): Promise<NodeDrift> => {
      let answer = await read(name);
      for (let n = 1; n < DRIFT_READS && answer.status === SSH_FAILED; n++) {
        await new Promise((r) => setTimeout(r, pauseMs));
        answer = await read(name);
      }
      return judge(name, expected.get(name) ?? "", answer);
    }),
  );
}

export function judge(node: string, expected: string, answer: Answer): NodeDrift {
  const said = lastLine(answer.stderr);
  if (answer.timedOut || answer.status === null) {
    return { node, kind: "unreachable", reason: `no answer over ssh in time${said}` };
  }
  if (answer.status === SSH_FAILED) {
    return { node, kind: "unreachable", reason: `ssh could not reach it (exit 255)${said}` };
  }
  if (answer.status !== 0) {
    // The node answered but its receiver would not report: not the receiver this program pushes.
    return {
      node,
      kind: "drifted",
      findings: [
        { what: "receiver", detail: [`clawd-mesh-receive state exited ${answer.status}${said}`] },
      ],
    };
  }
  try {
    return compareNode(node, expected, parseNodeState(answer.stdout));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { node, kind: "drifted", findings: [{ what: "receiver", detail: [message] }] };
  }
}

function lastLine(text: string): string {
  const line = text.trim().split("\n").pop()?.trim();
  return line ? `: ${line}` : "";
}
