// sshd for every node: seed 004's hardening table plus modern algorithms only. Keywords are
// spelled the way NixOS names its typed options (UseDns, Macs) — sshd reads keywords
// case-insensitively — so the NixOS module can take this table as it is.
import { publicSsh, type Fleet, type FleetNode } from "../fleet/fleet";
import type { SshdPlan, SshValue } from "./model";

/** Post-quantum hybrid first; then X25519. All present in OpenSSH 8.5 and later. */
export const KEX_ALGORITHMS = [
  "sntrup761x25519-sha512@openssh.com",
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
];
export const CIPHERS = [
  "chacha20-poly1305@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-gcm@openssh.com",
];
export const MACS = [
  "hmac-sha2-512-etm@openssh.com",
  "hmac-sha2-256-etm@openssh.com",
  "umac-128-etm@openssh.com",
];
const HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"];
/** Operator keys: Ed25519 and ECDSA (also on security keys), RSA only with SHA-2. */
const PUBKEY_ALGORITHMS = [
  "ssh-ed25519",
  "ssh-ed25519-cert-v01@openssh.com",
  "sk-ssh-ed25519@openssh.com",
  "sk-ssh-ed25519-cert-v01@openssh.com",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ecdsa-sha2-nistp256@openssh.com",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

export const HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";

/** The break-glass networks that may SSH to a node: none behind NAT, where none reach it. */
export function breakGlassCidrsOf(fleet: Fleet, node: FleetNode): readonly string[] {
  return node.address.kind === "nat" ? [] : fleet.ssh.breakGlassCidrs;
}

/** Whether sshd answers on the node's public side: public SSH, or break-glass. */
export function sshAnswersPublicly(fleet: Fleet, node: FleetNode): boolean {
  return publicSsh(node, fleet.ssh.port) || breakGlassCidrsOf(fleet, node).length > 0;
}

export function planSshd(fleet: Fleet, node: FleetNode): SshdPlan {
  const isEntry = node.roles.includes("entry");
  // Bound to the mesh address unless the node must answer on its public side too; the
  // firewall then narrows who may connect.
  const everywhere = sshAnswersPublicly(fleet, node);
  const settings: [string, SshValue][] = [
    ["AuthenticationMethods", "publickey"],
    ["PubkeyAuthentication", true],
    ["PasswordAuthentication", false],
    ["KbdInteractiveAuthentication", false],
    ["PermitEmptyPasswords", false],
    ["PermitRootLogin", "no"],
    ["AllowUsers", [fleet.ssh.adminUser]],
    ["MaxAuthTries", 3],
    ["LoginGraceTime", 20],
    ["ClientAliveInterval", 300],
    ["ClientAliveCountMax", 2],
    ["AllowAgentForwarding", false],
    // ProxyJump through an entry node is a local TCP forward; nothing else forwards.
    ["AllowTcpForwarding", isEntry ? "local" : "no"],
    ["AllowStreamLocalForwarding", false],
    ["X11Forwarding", false],
    ["PermitTunnel", false],
    ["GatewayPorts", "no"],
    ["PermitUserEnvironment", false],
    ["UseDns", false],
    ["StrictModes", true],
    ["PrintMotd", false],
    ["LogLevel", "VERBOSE"],
    ["KexAlgorithms", KEX_ALGORITHMS],
    ["Ciphers", CIPHERS],
    ["Macs", MACS],
    ["HostKeyAlgorithms", HOST_KEY_ALGORITHMS.join(",")],
    ["PubkeyAcceptedAlgorithms", PUBKEY_ALGORITHMS.join(",")],
  ];
  return {
    port: fleet.ssh.port,
    listenAddresses: everywhere ? [] : [node.meshIp],
    hostKey: HOST_KEY,
    adminUser: fleet.ssh.adminUser,
    authorizedKeys: fleet.ssh.authorizedKeys,
    settings,
  };
}
