// A deterministic ustar archive: what a push sends, base64-encoded, on the SSH session's
// stdin. Fixed owner, mode and time, so equal bundles give equal bytes and equal hashes.
export interface ArchiveEntry {
  readonly path: string;
  readonly content: string;
  /** 0o600 for secrets, 0o644 otherwise; scripts 0o755. */
  readonly mode: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(path: string, size: number, mode: number, type: "0" | "5"): Buffer {
  if (Buffer.byteLength(path) > 100) throw new Error(`archive path too long: ${path}`);
  const h = Buffer.alloc(BLOCK, 0);
  h.write(path, 0, 100, "utf8");
  h.write(octal(mode, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii"); // mtime
  h.write("        ", 148, "ascii"); // checksum placeholder: eight spaces
  h.write(type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("root", 265, "ascii");
  h.write("root", 297, "ascii");
  const sum = h.reduce((acc, byte) => acc + byte, 0);
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

export function tarArchive(entries: readonly ArchiveEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = new Set<string>();
  for (const e of sorted) {
    const parts = e.path.split("/").slice(0, -1);
    parts.forEach((_, i) => dirs.add(`${parts.slice(0, i + 1).join("/")}/`));
  }
  const blocks: Buffer[] = [...dirs].sort().map((d) => header(d, 0, 0o700, "5"));
  for (const e of sorted) {
    const body = Buffer.from(e.content, "utf8");
    blocks.push(header(e.path, body.length, e.mode, "0"), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad, 0));
  }
  blocks.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(blocks);
}
