// The bundles the program renders, kept on the operator's machine by their digest, the way
// Pulumi keeps a file archive: the push resource records only the digest (its trigger), and
// cli/push.ts loads the bundle by it when the push runs. The state then holds no file
// content, and a bundle that changed is a new digest, so a new push. Nothing secret is kept
// here: secrets reach cli/push.ts on stdin alone.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { bundleHash, type BundleFiles } from "../render/pushArchive";

export const BUNDLE_STORE = join(__dirname, "..", "..", ".clawd-mesh", "bundles");

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * How long a bundle is kept after the program last rendered it. A push runs in the same `up`
 * as the program that rendered its bundle (minutes, at most the push's 30-minute timeout), so
 * a week is plenty; without a limit every change of a hub would leave its bundle behind.
 */
export const KEEP_DAYS = 7;

/** Keeps the bundle under its digest and returns the digest. */
export function storeBundle(bundle: BundleFiles, dir: string = BUNDLE_STORE): string {
  const digest = bundleHash(bundle);
  // Kept by an earlier run: a file only ever lands under its digest whole (below), and one that
  // no longer matches is removed when a push refuses it, so it is only marked as rendered now.
  // Writing every bundle again on each run was most of the program's file work.
  try {
    const now = new Date();
    utimesSync(join(dir, `${digest}.json`), now, now);
    return digest;
  } catch {
    // Not kept yet.
  }
  mkdirSync(dir, { recursive: true });
  // Written whole, then renamed: programs running at once may store the same bundle, and a
  // push never reads half a file.
  const temp = join(dir, `.${digest}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  writeFileSync(temp, JSON.stringify(bundle));
  renameSync(temp, join(dir, `${digest}.json`));
  return digest;
}

/** Removes the bundles no program has rendered for KEEP_DAYS (a rename counts as rendering). */
export function pruneBundles(dir: string = BUNDLE_STORE, now: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const cutoff = now - KEEP_DAYS * 24 * 3600 * 1000;
  return names.filter((name) => {
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs >= cutoff) return false;
      rmSync(path, { force: true });
      return true;
    } catch {
      // Removed meanwhile by another program run: nothing to do.
      return false;
    }
  });
}

/** The bundle with this digest, checked against it (the push scripts count too). */
export function loadBundle(digest: string, dir: string = BUNDLE_STORE): BundleFiles {
  if (!DIGEST.test(digest)) throw new Error(`"${digest}" is not a bundle digest (64 hex digits)`);
  let text: string;
  try {
    text = readFileSync(join(dir, `${digest}.json`), "utf8");
  } catch {
    throw new Error(
      `no bundle ${digest} in ${dir}: the push runs from the program that rendered it. Fix: run up again from this project folder`,
    );
  }
  const bundle = JSON.parse(text) as BundleFiles;
  const got = bundleHash(bundle);
  if (got !== digest) {
    // Removed, so that the next run stores the bundle again instead of trusting this copy.
    rmSync(join(dir, `${digest}.json`), { force: true });
    throw new Error(
      `the bundle kept as ${digest} now hashes to ${got} (a file or a push script changed since the program rendered it). Fix: run up again`,
    );
  }
  return bundle;
}
