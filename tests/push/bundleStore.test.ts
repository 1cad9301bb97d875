// The bundle store: what a push loads is exactly what the program rendered, or the push fails
// saying why; bundles no program rendered for a week go.
import { readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEEP_DAYS, loadBundle, pruneBundles, storeBundle } from "../../core/delivery/bundleStore";
import { bundleHash } from "../../core/render/pushArchive";
import { tempDir } from "../helpers/run";

const tmp = tempDir("bundles");
afterAll(() => tmp.remove());
const bundle = { "wg0.conf": "[Interface]\nAddress = 10.0.0.2/24\n", sshd_config: "Port 22\n" };

test("a stored bundle loads back by its digest, which is the push's trigger", () => {
  const dir = join(tmp.path, "round");
  const digest = storeBundle(bundle, dir);
  expect(digest).toBe(bundleHash(bundle));
  expect(loadBundle(digest, dir)).toEqual(bundle);
  // Storing it again (another run of the program) leaves one file, no temporary ones.
  storeBundle(bundle, dir);
  expect(readdirSync(dir)).toEqual([`${digest}.json`]);
});

test("a bundle changed since it was stored, or missing, is refused", () => {
  const dir = join(tmp.path, "changed");
  const digest = storeBundle(bundle, dir);
  writeFileSync(join(dir, `${digest}.json`), JSON.stringify({ ...bundle, sshd_config: "" }));
  expect(() => loadBundle(digest, dir)).toThrow(`the bundle kept as ${digest} now hashes to`);
  // The next run, told to run again, stores it anew rather than keeping the changed copy.
  expect(storeBundle(bundle, dir)).toBe(digest);
  expect(loadBundle(digest, dir)).toEqual(bundle);
  expect(() => loadBundle("f".repeat(64), dir)).toThrow(`no bundle ${"f".repeat(64)} in ${dir}`);
  expect(() => loadBundle("../etc/passwd", dir)).toThrow("is not a bundle digest");
});

test(`bundles not rendered for ${KEEP_DAYS} days are removed, newer ones kept`, () => {
  const dir = join(tmp.path, "prune");
  const old = storeBundle(bundle, dir);
  const fresh = storeBundle({ ...bundle, extra: "x" }, dir);
  const now = Date.now();
  const longAgo = (now - (KEEP_DAYS + 1) * 24 * 3600 * 1000) / 1000;
  utimesSync(join(dir, `${old}.json`), longAgo, longAgo);
  expect(pruneBundles(dir, now)).toEqual([`${old}.json`]);
  expect(readdirSync(dir)).toEqual([`${fresh}.json`]);
  expect(pruneBundles(join(tmp.path, "none"), now)).toEqual([]);
});

test("a bundle rendered again counts as new, though it is not written again", () => {
  const dir = join(tmp.path, "again");
  const digest = storeBundle(bundle, dir);
  const now = Date.now();
  const longAgo = (now - (KEEP_DAYS + 1) * 24 * 3600 * 1000) / 1000;
  utimesSync(join(dir, `${digest}.json`), longAgo, longAgo);
  expect(storeBundle(bundle, dir)).toBe(digest);
  expect(pruneBundles(dir, now)).toEqual([]);
  expect(loadBundle(digest, dir)).toEqual(bundle);
});
