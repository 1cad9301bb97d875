// What a push sends to a node: its bundle (exactly what synth writes for it), its secret
// files, and the scripts that install them, as one deterministic archive. The bundle's hash
// is public (it drives the push's trigger, and reviewers may compare it); the secrets' hash
// is kept with the secrets.
import { createHash, createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tarArchive, type ArchiveEntry } from "./archive";

/** A bundle as plain data: path → content (Outputs copy values, and a Map would not survive). */
export type BundleFiles = Readonly<Record<string, string>>;

export const PUSH_DIR = join(__dirname, "..", "..", "push");

/** Secret files by name, installed by the scripts where the node needs them (mode 0600). */
export type SecretFiles = Readonly<Record<string, string>>;

let scripts: readonly ArchiveEntry[] | undefined;

function pushScripts(): readonly ArchiveEntry[] {
  scripts ??= readdirSync(PUSH_DIR)
    .filter((f) => f.endsWith(".sh"))
    .sort()
    .map((f) => ({
      path: `scripts/${f}`,
      content: readFileSync(join(PUSH_DIR, f), "utf8"),
      mode: 0o755,
    }));
  return scripts;
}

export function hashFiles(files: Readonly<Record<string, string>>): string {
  const h = createHash("sha256");
  const entries = Object.entries(files);
  for (const [path, content] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${path}\0${Buffer.byteLength(content)}\0${content}`);
  }
  return h.digest("hex");
}

/**
 * A fingerprint of the secrets that is safe to publish: an HMAC keyed with the node's own
 * WireGuard private key, so even a guessable secret cannot be confirmed from it. It lets the
 * push re-run when a secret changes while previews still show which node changes.
 */
export function secretsFingerprint(secrets: SecretFiles, key: string): string {
  return createHmac("sha256", key).update(hashFiles(secrets)).digest("hex");
}

/** The bundle's hash, covering the scripts too: a new script is a new push. */
export function bundleHash(bundle: BundleFiles): string {
  return hashFiles({
    ...Object.fromEntries(Object.entries(bundle).map(([p, c]) => [`bundle/${p}`, c])),
    ...Object.fromEntries(pushScripts().map((s) => [s.path, s.content])),
  });
}

/**
 * The sha256 of the archive's tar bytes, which the node checks before it unpacks anything: a
 * stream cut short at a tar member's boundary is a valid, smaller archive (its secrets/ gone),
 * and only the digest tells. It covers the secrets, among them the node's random WireGuard
 * key, so it confirms no guess of any secret.
 */
export function archiveDigest(archiveBase64: string): string {
  return createHash("sha256").update(Buffer.from(archiveBase64, "base64")).digest("hex");
}

/** The archive's copy of bundleHash, read by apply.sh. */
export const DIGEST_FILE = "bundle.sha256";
/** The rotated peers this push keeps on their previous keys (PushPlan's keeps), for apply.sh. */
export const KEEPS_FILE = "keeps";

/**
 * The archive of one push. `keeps`: what apply.sh reads from KEEPS_FILE, one rotated peer a
 * line (address, new key, previous key, seconds), when this push has any to keep.
 */
export function pushArchive(bundle: BundleFiles, secrets: SecretFiles, keeps = ""): string {
  const entries: ArchiveEntry[] = [
    ...Object.entries(bundle).map(([path, content]) => ({
      path: `bundle/${path}`,
      content,
      mode: 0o644,
    })),
    ...Object.entries(secrets).map(([name, content]) => ({
      path: `secrets/${name}`,
      content,
      mode: 0o600,
    })),
    ...pushScripts(),
    // Beside the bundle, not in it: the node records it once the push is confirmed, and a
    // drift check compares it with the digest the program renders (DIGEST_FILE).
    { path: DIGEST_FILE, content: `${bundleHash(bundle)}\n`, mode: 0o644 },
    ...(keeps ? [{ path: KEEPS_FILE, content: keeps, mode: 0o644 }] : []),
  ];
  return tarArchive(entries).toString("base64");
}
