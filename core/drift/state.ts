// What `clawd-mesh-receive state` prints (push/receive.sh, push/lib.sh live_state), read back:
//   clawd-mesh-state 1
//   digest <sha256 of the last confirmed bundle | none>
//   pending <token>                 (only while a push waits for its confirmation)
//   ### recorded                    the live state as the confirmation left it
//   ## <section> …
//   ### live                        the live state now
//   ## <section> …

export interface NodeState {
  readonly digest: string | undefined;
  readonly pending: string | undefined;
  /** Section title (`sshd -T`, `files`…) → its lines; empty when nothing was recorded. */
  readonly recorded: ReadonlyMap<string, readonly string[]>;
  readonly live: ReadonlyMap<string, readonly string[]>;
}

const HEADER = "clawd-mesh-state 1";

export function parseNodeState(text: string): NodeState {
  const lines = text.split("\n");
  if (lines[0] !== HEADER) {
    throw new Error(
      `the node's receiver answered "${lines[0] ?? ""}" instead of "${HEADER}": it predates drift checks; push the node again to install a receiver that has them`,
    );
  }
  let digest: string | undefined;
  let pending: string | undefined;
  const parts = { recorded: new Map<string, string[]>(), live: new Map<string, string[]>() };
  let part: Map<string, string[]> | undefined;
  let section: string[] | undefined;
  for (const line of lines.slice(1)) {
    if (line === "### recorded" || line === "### live") {
      part = line === "### live" ? parts.live : parts.recorded;
      section = undefined;
    } else if (part && line.startsWith("## ")) {
      section = [];
      part.set(line.slice(3), section);
    } else if (section) {
      if (line !== "") section.push(line);
    } else if (!part && line.startsWith("digest ")) {
      const d = line.slice(7).trim();
      digest = d === "none" ? undefined : d;
    } else if (!part && line.startsWith("pending ")) {
      pending = line.slice(8).trim();
    }
  }
  return { digest, pending, recorded: parts.recorded, live: parts.live };
}
