// clawd-mesh-receive (push/receive.sh) as the node runs it, as root, in a mount namespace of
// its own with an empty /var/lib: it checks the archive's sha256 before it unpacks anything.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pushCommand } from "../../core/delivery/command";
import { tarArchive } from "../../core/render/archive";
import { archiveDigest, PUSH_DIR } from "../../core/render/pushArchive";
import { requireTools, run, tempDir } from "../helpers/run";

requireTools("unshare", "mount", "shellcheck", "sha256sum", "base64", "tar");

const tmp = tempDir("receive");
afterAll(() => tmp.remove());
const marker = join(tmp.path, "applied");

// apply.sh's stand-in: records that it ran, with what, and whether the secrets came along.
const APPLY = `#!/bin/sh
{ echo "$*"; ls "$1/secrets"; } >"$MARKER"
`;
const tar = tarArchive([
  { path: "scripts/apply.sh", content: APPLY, mode: 0o755 },
  { path: "secrets/wg0.key", content: "a secret\n", mode: 0o600 },
]);
const whole = tar.toString("base64");
const cut = tar.subarray(0, 512 + 512).toString("base64"); // apply.sh only, no secrets/

function receive(stdin: string, args: readonly string[]) {
  rmSync(marker, { force: true });
  const script = `mount -t tmpfs tmpfs /var/lib && sh "$0" "$@"; rc=$?; ls -A /var/lib/clawd-mesh 2>/dev/null; exit $rc`;
  const r = run("unshare", ["-m", "sh", "-c", script, join(PUSH_DIR, "receive.sh"), ...args], {
    input: stdin,
    env: { ...process.env, MARKER: marker },
  });
  return { ...r, applied: existsSync(marker) ? readFileSync(marker, "utf8") : undefined };
}

test("a whole archive is unpacked and applied, and leaves nothing behind", () => {
  const r = receive(whole, ["apply", "--window", "60", "--sha256", archiveDigest(whole)]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.applied).toMatch(
    new RegExp(
      `^/var/lib/clawd-mesh/push\\.\\w+ --window 60 --sha256 ${archiveDigest(whole)}\\nwg0.key\\n$`,
    ),
  );
  expect(r.stdout).toBe("");
});

test("an archive cut at a tar member's boundary is refused before anything is unpacked", () => {
  expect(run("sh", ["-c", "base64 -d | tar -t -f -"], { input: cut }).status).toBe(0);
  const r = receive(cut, ["apply", "--window", "60", "--sha256", archiveDigest(whole)]);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(
    `clawd-mesh-receive: the archive that arrived (1024 bytes, sha256 ${archiveDigest(cut)}) is not the one sent (sha256 ${archiveDigest(whole)}): it was cut short or changed on the way, and nothing was unpacked. Fix: run the push again\n`,
  );
  expect(r.applied).toBeUndefined();
  expect(r.stdout).toBe("");
});

test("an archive without a digest is not unpacked", () => {
  const r = receive(whole, ["apply", "--window", "60"]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^clawd-mesh-receive: apply needs --sha256 /);
  expect(r.applied).toBeUndefined();
});

test("the first-contact command passes shellcheck", () => {
  const file = join(tmp.path, "first-contact.sh");
  writeFileSync(
    file,
    `#!/bin/sh\n${pushCommand({ bootstrap: true, archiveSha256: "0".repeat(64) })}`,
  );
  const r = run("shellcheck", ["-s", "sh", file]);
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

describe("wg-follow, asked by a rotating node's push of a node that holds it as a peer", () => {
  const key = "cTFvXm8z6TM4q8Qb8n4hRHB1ij8o9y/qIH+Z0sWWUS4=";
  test.each([
    ["an address that is not IPv4", ["10.0.0.5;reboot", "60", key, key]],
    ["seconds that are not a number", ["10.0.0.5", "$(id)", key, key]],
    ["a key that is not a WireGuard key", ["10.0.0.5", "60", "x", key]],
    ["a missing key", ["10.0.0.5", "60", key]],
    ["a mode other than ahead", ["10.0.0.5", "60", key, key, "behind"]],
    ["a word after the mode", ["10.0.0.5", "60", key, key, "ahead", "x"]],
  ])("%s is refused before anything is read", (_what, args) => {
    const r = receive("", ["wg-follow", ...args]);
    expect([r.status, r.stderr]).toEqual([
      2,
      "clawd-mesh-receive: wg-follow needs an IPv4 address, seconds (1-9999), two WireGuard public keys and, ahead of a hub or entry node, the word ahead\n",
    ]);
  });

  test.each([[[]], [["ahead"]]])(
    "on a node no push was confirmed on, nothing is followed %p",
    (mode) => {
      const r = receive("", ["wg-follow", "10.0.0.5", "60", key, key, ...mode]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no push was confirmed on this node/);
    },
  );
});

describe("retire, asked of a machine that is being replaced", () => {
  test("it answers, then leaves the mesh: its WireGuard interface goes a second later", () => {
    // A network namespace of its own with a stand-in wg0, and a node a push was confirmed on.
    const script = `set -e
mount -t tmpfs tmpfs /var/lib
ip link add wg0 type veth peer name wg0peer
s=/var/lib/clawd-mesh/installed/scripts
mkdir -p "$s"
cp "$1/lib.sh" "$s/lib.sh"
printf 'NODE_NAME=lab\\nWG_INTERFACE=wg0\\nINIT_SYSTEM=none\\n' >"$s/node.env"
sh "$1/receive.sh" retire
ip link show wg0 >/dev/null && echo "wg0 there after the answer"
i=0
while ip link show wg0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link show wg0 >/dev/null 2>&1 && echo "wg0 still there" || echo "wg0 gone"
sleep 0.2
cat /var/lib/clawd-mesh/retire.log`;
    const r = run("unshare", ["-m", "-n", "sh", "-c", script, "retire", PUSH_DIR]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "clawd-mesh: leaving the mesh\nwg0 there after the answer\nwg0 gone\nclawd-mesh[lab]: left the mesh: wg0 is down\n",
    );
    expect(r.status).toBe(0);
  });

  test("on a node no push was confirmed on, it says so and changes nothing", () => {
    const r = receive("", ["retire"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no push was confirmed on this node/);
  });
});
