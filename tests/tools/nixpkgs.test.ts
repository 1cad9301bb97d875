// The pinned nixpkgs on a node, with the real Nix: apply.sh's fetch (push/lib.sh) keeps a tree
// only when its hash is the pin's, and the NixOS module's fetchTarball then names the very
// same store path without downloading anything. A local tarball stands in for GitHub's.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NIX_DIR } from "../../core/render/nixos";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { requireTools, run, runOk, tempDir } from "../helpers/run";

requireTools("nix-prefetch-url", "nix-instantiate", "nix-hash", "nix-store", "tar");
const tmp = tempDir("nixpkgs");
const made: string[] = [];
afterAll(() => {
  // Only the paths this test put into the store.
  for (const path of made) run("nix-store", ["--delete", path]);
  tmp.remove();
});

// A tree of its own per run: a path another run left behind must not make the fetch a no-op.
const tree = join(tmp.path, "nixpkgs-pin");
mkdirSync(join(tree, "lib"), { recursive: true });
writeFileSync(join(tree, ".version"), "26.05");
writeFileSync(join(tree, "lib", "marker"), `${tmp.path}\n`);
const tarball = join(tmp.path, "pin.tar.gz");
runOk("tar", ["-C", tmp.path, "-czf", tarball, "nixpkgs-pin"]);
const sha256 = runOk("nix-hash", ["--type", "sha256", "--base32", tree]).trim();
const narHash = `sha256-${Buffer.from(runOk("nix-hash", ["--type", "sha256", tree]).trim(), "hex").toString("base64")}`;

function fetch(url: string, hash: string) {
  const log = join(tmp.path, "fetch.log");
  return run("sh", [
    "-c",
    `. "${PUSH_DIR}/lib.sh"; NIXPKGS_URL="$1" NIXPKGS_SHA256="$2"; fetch_nixpkgs "$3"`,
    "fetch",
    url,
    hash,
    log,
  ]);
}

test("a tree whose hash is not the pin's is refused, and nothing is printed", () => {
  const wrong = sha256.replace(/^./, (c) => (c === "0" ? "1" : "0"));
  const r = fetch(`file://${tarball}`, wrong);
  expect(r.status).not.toBe(0);
  expect(r.stdout).toBe("");
});

test("the pinned tree is fetched once, and the module names the same path offline", () => {
  const r = fetch(`file://${tarball}`, sha256);
  expect(r.status).toBe(0);
  const path = r.stdout.trim();
  made.push(path);
  expect(path).toMatch(/^\/nix\/store\/[0-9a-z]{32}-source$/);
  expect(runOk("cat", [join(path, ".version")])).toBe("26.05");

  // The module, evaluated for real with a URL that does not exist: only the hash counts.
  const pin = {
    branch: "nixos-26.05",
    release: "26.05",
    url: `file://${join(tmp.path, "nowhere.tar.gz")}`,
    sha256,
    narHash,
  };
  const expr = `
    let
      module = import ${join(NIX_DIR, "clawd-mesh", "nixpkgs.nix")} {
        config.clawdMesh.node = { name = "n1"; nixos.nixpkgs = builtins.fromJSON ${JSON.stringify(JSON.stringify(pin))}; };
        lib.trivial.release = "26.05";
      };
    in { inherit (module) nix; assertions = map (a: a.assertion) module.assertions; }`;
  const out = JSON.parse(runOk("nix-instantiate", ["--eval", "--strict", "--json", "-E", expr]));
  expect(out).toEqual({
    assertions: [true],
    nix: {
      channel: { enable: false },
      nixPath: [`nixpkgs=${path}`, "nixos-config=/etc/nixos/configuration.nix"],
      registry: { nixpkgs: { to: { type: "path", path, narHash } } },
    },
  });

  // Already in the store: a second fetch needs no download either.
  expect(fetch(`file://${join(tmp.path, "nowhere.tar.gz")}`, sha256).stdout.trim()).toBe(path);
});
