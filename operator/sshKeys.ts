// The key checks pulumi-command v1.2.1 makes before it dials (remote/connection.go SSHConfig),
// with golang.org/x/crypto/ssh v0.48.0's rules and words: a hostKey must parse as an
// authorized_keys line (ssh.ParseAuthorizedKey), a privateKey as a PEM key, encrypted exactly
// when a privateKeyPassword is given (ssh.ParsePrivateKey / ParsePrivateKeyWithPassphrase).
// Both fail the run at once, before any dial. What these checks leave to the key material
// itself (a valid RSA modulus, a decryptable body) the transport leaves to `ssh-keygen -y`.
import { createPublicKey } from "node:crypto";

/** A host key as x/crypto parsed it: its Type() and its wire encoding (ssh.Marshal). */
export interface HostKey {
  readonly type: string;
  readonly blob: Buffer;
}

export class KeyError extends Error {}

/**
 * x/crypto ssh/keys.go ParseAuthorizedKey: the first line (blank lines and #comments skipped)
 * whose text after its first field, or after an options field and a type, is a public key. The
 * type field itself is never compared: the key's type is the one inside the base64 blob.
 * Nothing found: "ssh: no key found", with the last line's parse error when there was one.
 */
export function parseAuthorizedKey(text: string): HostKey {
  let lastErr: string | undefined;
  for (const raw of text.split("\n")) {
    const line = goTrim(raw.split("\r")[0] as string);
    if (line === "" || line.startsWith("#")) continue;
    let i = line.search(/[ \t]/);
    if (i === -1) continue;
    const first = parseKeyField(line.slice(i));
    if ("key" in first) return first.key;
    lastErr = first.error;
    // keys.go: no key after the first field; maybe that field was options (quotes may hold
    // spaces), then the type, then the key.
    let inQuote = false;
    for (i = 0; i < line.length; i++) {
      const b = line[i];
      if (!inQuote && (b === " " || b === "\t")) break;
      if (b === '"' && (i === 0 || line[i - 1] !== "\\")) inQuote = !inQuote;
    }
    while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
    if (i === line.length) continue;
    const afterOptions = line.slice(i);
    const j = afterOptions.search(/[ \t]/);
    if (j === -1) continue;
    const second = parseKeyField(afterOptions.slice(j));
    if ("key" in second) return second.key;
    lastErr = second.error;
  }
  throw new KeyError(
    lastErr === undefined
      ? "ssh: no key found"
      : `ssh: no key found; last parsing error for ignored line: ${lastErr}`,
  );
}

/** bytes.TrimSpace: ASCII white space plus U+0085 and U+00A0. */
function goTrim(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, "");
}

/** keys.go parseAuthorizedKey: the base64 field up to the next blank, then ParsePublicKey. */
function parseKeyField(field: string): { key: HostKey } | { error: string } {
  const text = goTrim(field);
  const end = text.search(/[ \t]/);
  const decoded = goBase64(end === -1 ? text : text.slice(0, end));
  if (typeof decoded === "string") return { error: decoded };
  try {
    return { key: parsePublicKey(decoded) };
  } catch (e) {
    if (e instanceof KeyError) return { error: e.message };
    throw e;
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * encoding/base64 StdEncoding.Decode: padding required, \r and \n skipped, any other stray
 * byte an error "illegal base64 data at input byte N". Returns the error text on failure.
 */
export function goBase64(src: string): Buffer | string {
  const s = src.replace(/[\r\n]/g, "");
  const bad = (at: number) => `illegal base64 data at input byte ${at}`;
  const values: number[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "=") {
      const j = values.length % 4;
      if (j === 0 || j === 1) return bad(i);
      if (j === 2) {
        if (i + 1 === s.length) return bad(s.length);
        if (s[i + 1] !== "=") return bad(i);
        i++;
      }
      if (i + 1 < s.length) return bad(i + 1);
      break;
    }
    const v = B64.indexOf(c);
    if (v < 0) return bad(i);
    values.push(v);
    i++;
  }
  const tail = values.length % 4;
  if (tail !== 0 && !s.endsWith("=")) return bad(s.length - tail);
  const out: number[] = [];
  for (let k = 0; k < values.length; k += 4) {
    const q = values.slice(k, k + 4);
    const n = q.reduce((acc, v, idx) => acc | (v << (18 - 6 * idx)), 0);
    out.push((n >> 16) & 0xff);
    if (q.length > 2) out.push((n >> 8) & 0xff);
    if (q.length > 3) out.push(n & 0xff);
  }
  return Buffer.from(out);
}

/** A cursor over SSH wire data (RFC 4251 strings and mpints), as x/crypto's Unmarshal reads. */
class Wire {
  constructor(
    private data: Buffer,
    private at = 0,
  ) {}
  get rest(): Buffer {
    return this.data.subarray(this.at);
  }
  empty(): boolean {
    return this.at >= this.data.length;
  }
  /** parseString; a short read is `fail`. */
  string(fail = "ssh: short read"): Buffer {
    if (this.data.length - this.at < 4) throw new KeyError(fail);
    const n = this.data.readUInt32BE(this.at);
    if (this.data.length - this.at - 4 < n) throw new KeyError(fail);
    const s = this.data.subarray(this.at + 4, this.at + 4 + n);
    this.at += 4 + n;
    return s;
  }
  /** parseInt: a two's-complement big-endian mpint. */
  mpint(): bigint {
    const b = this.string();
    if (b.length === 0) return 0n;
    let n = BigInt(`0x${b.toString("hex")}`);
    if ((b[0] as number) & 0x80) n -= 1n << BigInt(8 * b.length);
    return n;
  }
}

const CURVES: Record<string, string> = { nistp256: "P-256", nistp384: "P-384", nistp521: "P-521" };

/** keys.go ParsePublicKey / parsePubKey for the key (not certificate) formats. */
export function parsePublicKey(blob: Buffer): HostKey {
  const w = new Wire(blob);
  const algo = w.string().toString("latin1");
  // Unmarshal of a struct from nothing: parseError(0).
  const body = () => {
    if (w.empty()) throw new KeyError("ssh: parse error in message type 0");
  };
  let type: string;
  switch (algo) {
    case "ssh-rsa": {
      body();
      const e = w.mpint();
      w.mpint();
      // big.Int BitLen counts the magnitude's bits.
      if ((e < 0n ? -e : e).toString(2).length > 24) throw new KeyError("ssh: exponent too large");
      if (e < 3n || e % 2n === 0n) throw new KeyError("ssh: incorrect exponent");
      type = algo;
      break;
    }
    case "ssh-dss":
      body();
      for (let k = 0; k < 4; k++) w.mpint();
      type = algo;
      break;
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
    case "sk-ecdsa-sha2-nistp256@openssh.com": {
      body();
      const curve = w.string("ssh: unmarshal error for field Curve of type ").toString("latin1");
      const point = w.string();
      const sk = algo.startsWith("sk-");
      if (sk) w.string("ssh: unmarshal error for field Application of type ");
      if (!CURVES[curve] || (sk && curve !== "nistp256")) {
        throw new KeyError("ssh: unsupported curve");
      }
      checkPoint(CURVES[curve], point);
      type = sk ? algo : `ecdsa-sha2-${curve}`;
      break;
    }
    case "ssh-ed25519":
    case "sk-ssh-ed25519@openssh.com": {
      body();
      const key = w.string();
      if (algo.startsWith("sk-")) w.string("ssh: unmarshal error for field Application of type ");
      if (key.length !== 32)
        throw new KeyError(`invalid size ${key.length} for Ed25519 public key`);
      type = algo;
      break;
    }
    default:
      if (algo.includes("-cert-v01@openssh.com")) {
        // x/crypto would pin a certificate's bytes; OpenSSH's known_hosts pins keys or CAs.
        throw new KeyError(`a certificate (${algo}) as hostKey is not supported by the lab`);
      }
      if (algo === "rsa-sha2-256" || algo === "rsa-sha2-512") {
        throw new KeyError(
          `ssh: signature algorithm "${algo}" isn't a key format; key is malformed and should be re-encoded with type "ssh-rsa"`,
        );
      }
      throw new KeyError(`ssh: unknown key algorithm: ${algo}`);
  }
  if (!w.empty()) throw new KeyError("ssh: trailing junk in public key");
  const after = blob.subarray(4 + Buffer.byteLength(algo, "latin1"));
  const name = Buffer.from(type, "latin1");
  const head = Buffer.alloc(4);
  head.writeUInt32BE(name.length);
  return { type, blob: type === algo ? blob : Buffer.concat([head, name, after]) };
}

/** elliptic.Unmarshal: an uncompressed point on the curve, else "ssh: invalid curve point". */
function checkPoint(crv: string, point: Buffer): void {
  const size = { "P-256": 32, "P-384": 48, "P-521": 66 }[crv] as number;
  const invalid = new KeyError("ssh: invalid curve point");
  if (point.length !== 1 + 2 * size || point[0] !== 4) throw invalid;
  try {
    createPublicKey({
      key: {
        kty: "EC",
        crv,
        x: point.subarray(1, 1 + size).toString("base64url"),
        y: point.subarray(1 + size).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    throw invalid;
  }
}

/** A known_hosts line pinning exactly this key for `name`. */
export function knownHostsLine(name: string, key: HostKey): string {
  return `${name} ${key.type} ${key.blob.toString("base64")}\n`;
}

/**
 * The format checks of x/crypto ssh/keys.go ParseRawPrivateKey (no passphrase) and
 * ParseRawPrivateKeyWithPassphrase, with their words: which PEM block, whether it is encrypted,
 * and whether that agrees with a passphrase being given. Throws KeyError.
 */
export function checkPrivateKeyFormat(pem: string, passphrase: string | undefined): void {
  const block = decodePem(pem);
  if (!block) throw new KeyError("ssh: no key found");
  const procType = block.headers.get("Proc-Type") ?? "";
  const encryptedPem = procType.includes("ENCRYPTED");
  if (block.type === "OPENSSH PRIVATE KEY") {
    const magic = "openssh-key-v1\0";
    if (block.bytes.subarray(0, magic.length).toString("latin1") !== magic) {
      throw new KeyError("ssh: invalid openssh private key format");
    }
    const w = new Wire(block.bytes.subarray(magic.length));
    const cipher = w.string("ssh: unmarshal error for field CipherName of type ").toString();
    const kdf = w.string("ssh: unmarshal error for field KdfName of type ").toString();
    const kdfOpts = w.string("ssh: unmarshal error for field KdfOpts of type ").toString();
    if (passphrase === undefined) {
      // unencryptedOpenSSHKey
      if (kdf !== "none" || cipher !== "none") {
        throw new KeyError("ssh: this private key is passphrase protected");
      }
      if (kdfOpts !== "") throw new KeyError("ssh: invalid openssh private key");
      return;
    }
    // passphraseProtectedOpenSSHKey
    if (kdf === "none" || cipher === "none") {
      throw new KeyError("ssh: key is not password protected");
    }
    if (kdf !== "bcrypt") throw new KeyError(`ssh: unknown KDF "${kdf}", only supports "bcrypt"`);
    if (cipher !== "aes256-ctr" && cipher !== "aes256-cbc") {
      throw new KeyError(
        `ssh: unknown cipher "${cipher}", only supports "aes256-ctr" or "aes256-cbc"`,
      );
    }
    return;
  }
  const pemTypes = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"];
  if (passphrase === undefined) {
    if (encryptedPem) throw new KeyError("ssh: this private key is passphrase protected");
    if (![...pemTypes, "PRIVATE KEY"].includes(block.type)) {
      throw new KeyError(`ssh: unsupported key type "${block.type}"`);
    }
    return;
  }
  // x509.IsEncryptedPEMBlock: a DEK-Info header.
  if (!encryptedPem || !block.headers.has("DEK-Info")) {
    throw new KeyError("ssh: not an encrypted key");
  }
  if (!pemTypes.includes(block.type)) {
    throw new KeyError(`ssh: unsupported key type "${block.type}"`);
  }
}

interface PemBlock {
  readonly type: string;
  readonly headers: Map<string, string>;
  readonly bytes: Buffer;
}

/** encoding/pem Decode, for the first well-formed block: type, headers, base64 body. */
function decodePem(text: string): PemBlock | undefined {
  const re = /-----BEGIN ([^\n]*?)-----[ \t]*\r?\n([\s\S]*?)-----END \1-----[ \t]*(?:\r?\n|$)/g;
  for (const m of text.matchAll(re)) {
    const headers = new Map<string, string>();
    const lines = (m[2] as string).split("\n");
    let k = 0;
    for (; k < lines.length; k++) {
      const line = lines[k] as string;
      const colon = line.indexOf(":");
      if (colon < 0) break;
      headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const body = lines
      .slice(k)
      .join("")
      .replace(/[ \t\r]/g, "");
    const bytes = goBase64(body);
    if (typeof bytes === "string") continue;
    return { type: m[1] as string, headers, bytes };
  }
  return undefined;
}
