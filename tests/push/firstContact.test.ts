// First contact as the node runs it: no receiver is installed yet, so the command the push
// sends unpacks the archive's own receive.sh and runs it as root. Run here under sh, with a
// stand-in `id` that says root, against archives made by the same code as a real push.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pushCommand } from "../../core/delivery/command";
import { tarArchive } from "../../core/render/archive";
import { archiveDigest } from "../../core/render/pushArchive";
import { run, tempDir } from "../helpers/run";

const tmp = tempDir("first-contact");
afterAll(() => tmp.remove());

// The archive's receive.sh stand-in: where it runs from, who may enter that directory, its
// arguments, and whether the secrets came along.
const RECEIVE = `#!/bin/sh
here=$(dirname "$0")
{
  echo "dir=$here"
  echo "mode=$(stat -c %a "$here")"
  echo "args=$*"
  echo "stdin=$(wc -c | tr -d ' ')"
} >"$REPORT"
`;

function archive(): { base64: string; tar: Buffer } {
  const tar = tarArchive([
    { path: "scripts/receive.sh", content: RECEIVE, mode: 0o755 },
    { path: "bundle/wg0.conf", content: "[Interface]\n", mode: 0o644 },
    { path: "secrets/wg0.key", content: "a secret\n", mode: 0o600 },
  ]);
  return { base64: tar.toString("base64"), tar };
}

function firstContact(stdin: string, sha256: string) {
  const root = join(tmp.path, `run-${readdirSync(tmp.path).length}`);
  const bin = join(root, "bin");
  const scratch = join(root, "tmp");
  mkdirSync(bin, { recursive: true });
  mkdirSync(scratch, { mode: 0o1777 });
  chmodSync(scratch, 0o1777);
  writeFileSync(join(bin, "id"), "#!/bin/sh\necho 0\n");
  chmodSync(join(bin, "id"), 0o755);
  const report = join(root, "report");
  const ran = run("sh", ["-c", pushCommand({ bootstrap: true, archiveSha256: sha256 })], {
    input: stdin,
    env: { PATH: `${bin}:${process.env.PATH}`, TMPDIR: scratch, REPORT: report },
  });
  return {
    ...ran,
    scratch,
    left: readdirSync(scratch),
    report: existsSync(report) ? readFileSync(report, "utf8") : undefined,
  };
}

test("a whole archive: receive.sh runs from a directory only root may enter, gone afterwards", () => {
  const a = archive();
  const r = firstContact(a.base64, archiveDigest(a.base64));
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const lines = Object.fromEntries(
    (r.report ?? "")
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2) as [string, string]),
  );
  // mktemp -d's own directory, not the shared temp directory where names can be planted.
  expect(lines.dir).not.toBe(r.scratch);
  expect(lines.dir?.startsWith(`${r.scratch}/`)).toBe(true);
  expect(lines.mode).toBe("700");
  expect(lines.args).toBe(`apply --bootstrap --window 120 --sha256 ${archiveDigest(a.base64)}`);
  expect(Number(lines.stdin)).toBe(a.base64.length);
  expect(r.left).toEqual([]);
});

test("an archive cut at a tar member's boundary is refused before anything is unpacked", () => {
  const a = archive();
  // Header and content of the first member, padded to 512: a valid tar without the others.
  const cut = a.tar.subarray(0, 512 + Math.ceil(Buffer.byteLength(RECEIVE) / 512) * 512);
  expect(run("tar", ["-t", "-f", "-"], { input: cut as unknown as string }).status).toBe(0);
  const r = firstContact(cut.toString("base64"), archiveDigest(a.base64));
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(
    `clawd-mesh: the archive that arrived (${cut.length} bytes, sha256 ${archiveDigest(cut.toString("base64"))}) is not the one sent (sha256 ${archiveDigest(a.base64)}): it was cut short or changed on the way, and nothing was unpacked. Fix: run the push again\n`,
  );
  expect(r.report).toBeUndefined();
  expect(r.left).toEqual([]);
});

test("the command refuses a digest that is not one", () => {
  expect(() => pushCommand({ archiveSha256: "abc; reboot" })).toThrow(
    '"abc; reboot" is not the archive\'s sha256 (64 hex digits)',
  );
});
