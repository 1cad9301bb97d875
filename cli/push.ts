// One push, run by the Pulumi program on the operator's machine (components/push.ts):
//   node_modules/.bin/tsx cli/push.ts   with the plan in CLAWD_MESH_PUSH and the node's secret
//   files (and the operator's key, unless an agent holds it) on stdin. The bundle comes from the
//   store the program rendered it into, by the digest the plan names.
// Apply over one SSH connection, then confirm over a new one, made after the switch on the path
// the new configuration leaves. Exits 0 only once the node has kept the new configuration; on
// any failure the node goes back to its previous one by itself, and the run fails naming it.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { applyOutcome, confirmFor, followCommand, pushCommand } from "../core/delivery/command";
import {
  parsePushPlan,
  PUSH_PLAN_VARIABLE,
  PUSH_TIMEOUT_SECONDS,
  type PushPlan,
  type PushSecrets,
  type Route,
} from "../core/delivery/plan";
import { loadBundle } from "../core/delivery/bundleStore";
import { archiveDigest, pushArchive } from "../core/render/pushArchive";
import { sshTransport } from "../operator/ssh";
import { describeRoute, routeConnection } from "../operator/route";

async function main(): Promise<number> {
  const plan = parsePushPlan(process.env[PUSH_PLAN_VARIABLE]);
  const secrets = JSON.parse(readFileSync(0, "utf8")) as PushSecrets;
  // Rotated peers kept on their previous keys from the switch, as long as a follow may last.
  const keeps = (plan.keeps ?? [])
    .map((k) => `${k.address} ${k.key} ${k.previousKey} ${followSeconds(plan)}\n`)
    .join("");
  const archive = pushArchive(loadBundle(plan.bundle), secrets.files, keeps);
  const ssh = sshTransport({ env: process.env });
  const say = (line: string) => process.stderr.write(`clawd-mesh[${plan.node}]: ${line}\n`);
  const bootstrap = plan.mode === "bootstrap";
  const decommission = plan.mode === "decommission";
  const doing = bootstrap ? "first contact" : decommission ? "the decommission" : "the push";

  say(`${doing} to ${describeRoute(plan.apply)}`);
  if (!bootstrap && !plan.apply.proxy && (await unreachable(plan.apply))) {
    // No route at all: this machine reaches the node over the mesh, as a WireGuard peer, and is
    // not on it. Retrying for minutes would not change that.
    throw new Error(
      `this machine has no route to ${plan.apply.host}: it reaches ${plan.node} over the mesh, as a WireGuard peer. Fix: bring up this machine's peer from the stack output "peers" (on a first deployment, run once with clawd-mesh:firstContactOnly=true to get it), then run up again.`,
    );
  }
  if (plan.follows) await follow(plan, plan.follows, ssh, secrets.privateKey, say);
  const applied = await ssh
    .remote({
      connection: routeConnection(plan.apply, plan.dial, secrets.privateKey),
      command: pushCommand({
        bootstrap,
        decommission,
        windowSeconds: plan.windowSeconds,
        archiveSha256: archiveDigest(archive),
      }),
      stdin: archive,
    })
    .catch((error: unknown) => {
      // Never reached, refused before the switch, or lost during it: the node's own words.
      throw new Error(`${plan.node}: ${doing} failed: ${text(error)}`);
    });
  const outcome = applyOutcome(applied.stdout);
  // A fresh connection: its arrival over the new configuration is the first proof.
  say(
    outcome.kind === "armed"
      ? `switched (${outcome.token}); confirming over ${describeRoute(plan.confirm)}`
      : `unchanged; checking ${describeRoute(plan.confirm)}`,
  );
  const confirmed = await ssh
    .remote({
      connection: routeConnection(plan.confirm, plan.dial, secrets.privateKey),
      command: confirmFor(outcome),
      // Past the window the node has gone back by itself: no point dialling on.
      timeoutMs: plan.windowSeconds * 1000,
    })
    .catch((error: unknown) => {
      const message = /context deadline exceeded/.test(text(error))
        ? `no connection over ${describeRoute(plan.confirm)} within ${plan.windowSeconds} s of the switch`
        : text(error);
      throw new Error(
        decommission
          ? `${plan.node}: the decommission was not confirmed over ${describeRoute(plan.confirm)}, the way its owner logs in: ${message}. The node goes back on the mesh by itself, ${plan.windowSeconds} s after the switch.`
          : `${plan.node}: the switch was not confirmed: ${message}. The node goes back to its previous configuration by itself, ${plan.windowSeconds} s after the switch.`,
      );
    });
  const result =
    outcome.kind === "armed"
      ? (/clawd-mesh: confirmed \S+/.exec(confirmed.stdout)?.[0] ??
        `clawd-mesh: confirmed ${outcome.token}`)
      : "clawd-mesh: unchanged";
  process.stdout.write(`${result}\n`);
  return 0;
}

/** Follows asked at once (see follow()). */
const FOLLOWS_AT_ONCE = 8;

/**
 * A rotated key: the nodes that follow this one from its previous key to its new one (the one
 * it is reached through; for a hub or a full mesh's entry node, every other node) are asked
 * before the apply. Each follows until the new key has a handshake (or, ahead of a hub or entry
 * node, until its own push), and never longer than this push can run, its switch and its
 * rollback window: past that, nothing it waits for can still happen.
 */
async function follow(
  plan: ReturnType<typeof parsePushPlan>,
  follows: NonNullable<PushPlan["follows"]>,
  ssh: ReturnType<typeof sshTransport>,
  key: string | undefined,
  say: (line: string) => void,
): Promise<void> {
  const seconds = followSeconds(plan);
  const names = follows.map((f) => f.node).join(", ");
  say(
    `${names} follow${follows.length > 1 ? "" : "s"} ${plan.node}'s WireGuard key to its new one for up to ${seconds} s`,
  );
  const failed: string[] = [];
  // A few at a time: most pass the same entry node, whose sshd drops connections beyond ten
  // unauthenticated ones at once (MaxStartups' default).
  for (let i = 0; i < follows.length; i += FOLLOWS_AT_ONCE) {
    await Promise.all(
      follows.slice(i, i + FOLLOWS_AT_ONCE).map((f) =>
        ssh
          .remote({
            connection: routeConnection(f.route, plan.dial, key),
            command: followCommand({ ...f, seconds }),
          })
          .catch((error: unknown) => failed.push(`${f.node}: ${text(error)}`)),
      ),
    );
  }
  if (failed.length > 0) {
    throw new Error(
      `${plan.node}: ${failed.length} of the nodes that must follow its new WireGuard key could not (${failed.join("; ")}). Nothing was changed on ${plan.node}, and a follow already started ends by itself on the key it holds now; run up again once they answer.`,
    );
  }
}

/** How long a follow may last: past this push's run, its switch and its window, nothing it waits for can come. */
function followSeconds(plan: ReturnType<typeof parsePushPlan>): number {
  return Math.min(9999, PUSH_TIMEOUT_SECONDS + plan.windowSeconds + 60);
}

/** Whether the kernel has no route to the host at all (ENETUNREACH), as opposed to no answer. */
function unreachable(hop: Route): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: hop.host, port: hop.port, timeout: 3000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done(false));
    socket.once("timeout", () => done(false));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ENETUNREACH"));
  });
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    // The node's own words (apply's or confirm's), or ssh's when it never answered.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
