// What the push tests read on a lab node and change in its stack: the files its manifest
// places, by digest; a rule more, so the next up pushes it; its return from a rollback.
import { MANIFEST_FILE, PENDING_DIR } from "../../core/plan/files";
import type { Lab } from "../../lab/lab";
import type { LabHost } from "../../lab/host";
import { LAB_WINDOW } from "./lab";

/** The node's installed manifest, one row of words a line (core/render/manifest.ts). */
export function manifestRows(host: LabHost): string[][] {
  return host
    .run("cat", [MANIFEST_FILE])
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(" "));
}

/** Each file by its sha256, or "absent". */
export function digests(host: LabHost, files: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    [...new Set(files)]
      .sort()
      .map((f) => [f, host.try("sha256sum", [f]).stdout.split(" ")[0] || "absent"]),
  );
}

/** Every file the node's manifest places (and `extra` ones), by its sha256 or "absent". */
export function installed(host: LabHost, extra: readonly string[] = []): Record<string, string> {
  const files = manifestRows(host)
    .filter(([, kind]) => kind !== "dir")
    .map(([, , , destination]) => destination as string);
  return digests(host, [...files, ...extra]);
}

/** Whether a push waits on the node for its confirmation. */
export function pending(host: LabHost): boolean {
  return host.try("test", ["-e", PENDING_DIR]).status === 0;
}

/** The stack file's fleet with one more rule, so the next up pushes `node`. */
export function withRule(lab: Lab, node: string, tcp: number) {
  const raw = lab.raw();
  return {
    ...raw,
    access: [...raw.access, { from: ["group:clients"], to: [`node:${node}`], tcp: [tcp] }],
  };
}

/**
 * Waits until the node has put its previous configuration back and answers over its
 * management path again; returns how long that took since `since`.
 */
export async function rolledBack(lab: Lab, node: string, since: number): Promise<number> {
  const host = lab.nodeHost(node);
  if (!host) throw new Error(`no lab host for ${node}`);
  const deadline = Date.now() + (LAB_WINDOW + 40) * 1000;
  while (Date.now() < deadline) {
    if (!pending(host) && (await lab.ssh(node, "true", "", 15_000)).status === 0) {
      return (Date.now() - since) / 1000;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${node} did not come back within ${LAB_WINDOW + 40} s`);
}

/**
 * An older OpenSSH on the node, say: its `sshd -t` refuses whatever the bundle asks for (the
 * running sshd is left alone). Returns what undoes it.
 */
export function sshdRefusesNewConfig(host: LabHost): () => void {
  host.run("sh", [
    "-c",
    `printf '%s\\n' '#!/bin/sh' 'case " $* " in *" -t "*) echo "sshd: unsupported option" >&2; exit 1;; esac' 'exec /usr/sbin/sshd "$@"' >/usr/local/sbin/sshd && chmod 755 /usr/local/sbin/sshd`,
  ]);
  return () => host.run("rm", ["-f", "/usr/local/sbin/sshd"]);
}

/** The stack file's fleet with SSH allowed only from the clients: the operator is cut off. */
export function sshFromClientsOnly(lab: Lab) {
  const raw = lab.raw();
  return { ...raw, ssh: { ...raw.ssh, allowFrom: ["group:clients"] } };
}

/** The journal's lines of a systemd host matching `pattern`, each with its time (seconds). */
export function journal(host: LabHost, pattern: RegExp): { at: number; line: string }[] {
  const text = host.run("journalctl", ["--no-pager", "-o", "short-unix", "-q"]);
  return text.split("\n").flatMap((line) => {
    const m = /^(\d+\.\d+) (.*)$/.exec(line);
    return m && pattern.test(m[2] as string) ? [{ at: Number(m[1]), line: m[2] as string }] : [];
  });
}

/**
 * The last rollback systemd-run armed on a systemd host, from its journal: its token, how late
 * after the window its timer started the rollback service, and how late the rollback spoke.
 */
export function rollbackTimer(
  host: LabHost,
  window: number,
): { token: string; lateness: number; began: number } {
  const armed = journal(host, /Started clawd-mesh-rollback-.*\.timer/).at(-1);
  const token = /clawd-mesh-rollback-(\S+)\.timer/.exec(armed?.line ?? "")?.[1];
  if (!armed || !token) throw new Error("the journal shows no rollback timer started");
  // The timer's own moment (its service started), and the rollback's first word.
  const fired = journal(host, new RegExp(`Started clawd-mesh-rollback-${token}\\.service`)).at(-1);
  const spoke = journal(host, new RegExp(`push ${token} was not confirmed in \\d+s`)).at(-1);
  if (!fired || !spoke) throw new Error(`the journal shows no rollback of ${token} started`);
  return {
    token,
    lateness: fired.at - armed.at - window,
    began: spoke.at - armed.at - window,
  };
}
