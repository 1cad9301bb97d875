// sha256 digests in the two spellings Nix reads: its own base32 (what nix-prefetch-url prints
// and builtins.fetchTarball takes) and SRI ("sha256-" + base64, what nix.registry's narHash
// wants). A stack may write either; the program hands both tools the form they accept.

/** Nix's base32 alphabet: digits and lowercase letters without e, o, u and t. */
const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";
const SHA256_BYTES = 32;
/** 256 bits in 5-bit digits. */
export const NIX_BASE32_SHA256_LENGTH = 52;

/** Nix's base32: the last digit encodes the lowest bits (libutil's printHash32). */
export function toNixBase32(bytes: Uint8Array): string {
  const length = Math.floor((bytes.length * 8 - 1) / 5) + 1;
  let out = "";
  for (let n = length - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const low = (bytes[i] ?? 0) >> j;
    const high = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0;
    out += NIX_BASE32[(low | high) & 0x1f];
  }
  return out;
}

/** The digest a 52-digit Nix base32 sha256 spells, or undefined when it spells none. */
export function fromNixBase32(text: string): Uint8Array | undefined {
  if (text.length !== NIX_BASE32_SHA256_LENGTH) return undefined;
  const bytes = new Uint8Array(SHA256_BYTES);
  for (let n = 0; n < text.length; n++) {
    const digit = NIX_BASE32.indexOf(text[text.length - n - 1] ?? "");
    if (digit < 0) return undefined;
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    bytes[i] = ((bytes[i] ?? 0) | (digit << j)) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < SHA256_BYTES) bytes[i + 1] = ((bytes[i + 1] ?? 0) | carry) & 0xff;
    else if (carry !== 0) return undefined; // bits past 256: Nix refuses these too
  }
  return bytes;
}

/** A sha256 written as Nix base32 or SRI, as its 32 bytes; undefined for anything else. */
export function parseSha256(text: string): Uint8Array | undefined {
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(text);
  if (sri) {
    const bytes = Buffer.from(sri[1] as string, "base64");
    // Node's decoder ignores stray low bits: only the canonical spelling round-trips.
    return bytes.length === SHA256_BYTES && bytes.toString("base64") === sri[1]
      ? new Uint8Array(bytes)
      : undefined;
  }
  return fromNixBase32(text);
}

export function toSri(bytes: Uint8Array): string {
  return `sha256-${Buffer.from(bytes).toString("base64")}`;
}
