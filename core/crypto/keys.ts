// Key material derived inside the program from random bytes (a Pulumi secret), with Node's
// own X25519 and Ed25519: no shelling out to `wg` or `ssh-keygen`, no hand-written curves.
import { createHash, createPrivateKey, createPublicKey, hkdfSync } from "node:crypto";

// PKCS#8 DER headers for raw 32-byte private keys (RFC 8410).
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");

function raw32(base64: string, what: string): Buffer {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== 32) throw new Error(`${what} must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

function publicRaw(prefix: Buffer, seed: Buffer): Buffer {
  const key = createPrivateKey({
    key: Buffer.concat([prefix, seed]),
    format: "der",
    type: "pkcs8",
  });
  const jwk = createPublicKey(key).export({ format: "jwk" }) as { x: string };
  return Buffer.from(jwk.x, "base64url");
}

/** The WireGuard public key of a private key (both base64), as `wg pubkey` prints it. */
export function wireguardPublicKey(privateKeyBase64: string): string {
  return publicRaw(X25519_PKCS8, raw32(privateKeyBase64, "a WireGuard private key")).toString(
    "base64",
  );
}

/**
 * The WireGuard private key (base64) of a node's key generation. Generation 0 is the node's
 * random seed itself, the key every node had before keys could be rotated; a later one is
 * derived from the seed (HKDF-SHA256). Derived rather than drawn anew, so the program can
 * still name the public key of the generation before — the key the node holds until its
 * rotation lands, which its WireGuard peer is offered while the node moves (cli/push.ts).
 */
export function wireguardKeyOfGeneration(seedBase64: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 0) {
    throw new Error(`a WireGuard key generation is a whole number from 0, not ${generation}`);
  }
  const seed = raw32(seedBase64, "a WireGuard key seed");
  if (generation === 0) return seed.toString("base64");
  const info = `clawd-mesh wireguard key generation ${generation}`;
  return Buffer.from(hkdfSync("sha256", seed, Buffer.alloc(0), info, 32)).toString("base64");
}

/**
 * The k3s join token of a cluster's token generation: generation 0 is the random token the
 * cluster was made with; a later one is derived from it (HKDF-SHA256, hex), so raising the
 * generation replaces nothing random and every member's push carries the same new token.
 * The server's push hands it to the running k3s (`k3s token rotate`'s request) before the
 * restart; the token it replaces is the one k3s itself recorded.
 */
export function k3sTokenOfGeneration(seed: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 0) {
    throw new Error(`a k3s token generation is a whole number from 0, not ${generation}`);
  }
  if (generation === 0) return seed;
  const info = `clawd-mesh k3s token generation ${generation}`;
  return Buffer.from(hkdfSync("sha256", Buffer.from(seed), Buffer.alloc(0), info, 32)).toString(
    "hex",
  );
}

/** SSH wire encoding: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export interface SshHostKey {
  /** "ssh-ed25519 AAAA…", for known_hosts and for pinning. */
  readonly publicKey: string;
  /** The private key file, in OpenSSH's own format (PROTOCOL.key), unencrypted. */
  readonly privateKey: string;
}

/** An Ed25519 SSH host key from a 32-byte seed; the same seed always gives the same files. */
export function sshHostKeyFromSeed(seedBase64: string, comment: string): SshHostKey {
  const seed = raw32(seedBase64, "an SSH host key seed");
  const pub = publicRaw(ED25519_PKCS8, seed);
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  // The check integers only detect a wrong passphrase; derived from the seed for determinism.
  const check = createHash("sha256").update(seed).digest().readUInt32BE(0);
  let secret = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(secret),
  ]).toString("base64");
  const lines = body.match(/.{1,70}/g) ?? [];
  return {
    publicKey: `ssh-ed25519 ${publicBlob.toString("base64")}`,
    privateKey: [
      "-----BEGIN OPENSSH PRIVATE KEY-----",
      ...lines,
      "-----END OPENSSH PRIVATE KEY-----",
      "",
    ].join("\n"),
  };
}
