// The program's inputs from stack config: the fleet (validated before anything is created),
// the operator's SSH key or agent, and the vault nodes' Kuma push URLs.
import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../core/fleet/fleet";
import { validateFleet } from "../core/fleet/validate";
import type { SshCredentials } from "./context";
import { DEFAULT_ROLLBACK_WINDOW } from "../core/delivery/command";

export interface ProgramConfig {
  readonly fleet: Fleet;
  readonly credentials: SshCredentials;
  readonly kumaPushUrls?: pulumi.Output<Record<string, string>>;
  readonly push: PushSettings;
}

/** How the program pushes: from the stack's config (clawd-mesh:…). */
export interface PushSettings {
  /** rollbackSeconds: how long a switched node waits for confirmation before rolling back. */
  readonly windowSeconds: number;
  /**
   * firstContactOnly: a first deployment managed from a mesh peer creates the hosts and makes
   * first contact only, so the peer can join the mesh (stack output `peers`) before the pushes
   * that go over it.
   */
  readonly firstContactOnly: boolean;
  /** connectAttempts: dials before a push gives up on a host (booting, tunnels coming up). */
  readonly connectAttempts: number;
}

/** About ten minutes of dials (15 s each at most, backing off to 5 s between) by default. */
export const DEFAULT_CONNECT_ATTEMPTS = 41;

export function readProgramConfig(config: pulumi.Config): ProgramConfig {
  // Throws with every problem listed before a single resource is declared.
  const fleet = validateFleet(config.getObject<unknown>("fleet"));
  const privateKey = config.getSecret("sshPrivateKey");
  const agent = process.env.SSH_AUTH_SOCK;
  if (!privateKey && !agent) {
    throw new Error(
      "No SSH credentials: set clawd-mesh:sshPrivateKey (pulumi config set --secret " +
        "sshPrivateKey < ~/.ssh/id_ed25519) or run an ssh-agent holding the operator's key.",
    );
  }
  const kuma = config.getSecretObject<Record<string, string>>("kumaPushUrls");
  const windowSeconds = config.getNumber("rollbackSeconds") ?? DEFAULT_ROLLBACK_WINDOW;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 20 || windowSeconds > 3600) {
    throw new Error(
      `clawd-mesh:rollbackSeconds = ${windowSeconds}: a node waits this long for confirmation before rolling back. Fix: use a whole number from 20 to 3600 (default ${DEFAULT_ROLLBACK_WINDOW}).`,
    );
  }
  const connectAttempts = config.getNumber("connectAttempts") ?? DEFAULT_CONNECT_ATTEMPTS;
  if (!Number.isInteger(connectAttempts) || connectAttempts < 1 || connectAttempts > 200) {
    throw new Error(
      `clawd-mesh:connectAttempts = ${connectAttempts}: a push dials a host this many times before it gives up. Fix: use a whole number from 1 to 200 (default ${DEFAULT_CONNECT_ATTEMPTS}, about ten minutes).`,
    );
  }
  return {
    push: {
      windowSeconds,
      firstContactOnly: config.getBoolean("firstContactOnly") ?? false,
      connectAttempts,
    },
    fleet,
    credentials: privateKey ? { privateKey } : { agentSocketPath: agent ?? "" },
    ...(kuma && { kumaPushUrls: kuma }),
  };
}
