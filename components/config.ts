// The program's inputs from stack config: the fleet (validated before anything is created),
// the operator's SSH key or agent, and the vault nodes' Kuma push URLs.
import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../core/fleet/fleet";
import { validateFleet } from "../core/fleet/validate";
import type { SshCredentials } from "./context";
import { DEFAULT_ROLLBACK_WINDOW } from "../core/push/command";

export interface ProgramConfig {
  readonly fleet: Fleet;
  readonly credentials: SshCredentials;
  readonly kumaPushUrls?: pulumi.Output<Record<string, string>>;
  readonly windowSeconds: number;
  /**
   * A first deployment managed from a mesh peer: create the hosts and make first contact only,
   * so the peer can join the mesh (stack output `peers`) before the pushes that go over it.
   */
  readonly firstContactOnly: boolean;
}

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
  return {
    windowSeconds,
    firstContactOnly: config.getBoolean("firstContactOnly") ?? false,
    fleet,
    credentials: privateKey ? { privateKey } : { agentSocketPath: agent ?? "" },
    ...(kuma && { kumaPushUrls: kuma }),
  };
}
