// rollback.sh's boot mode as the OpenRC service runs it (the lab's Alpine hosts have no init to
// boot it): in a private mount namespace, over a pending push made by hand, with stand-ins for
// the tools that would start something. It puts the saved files back, records by=boot, and
// starts nothing: the services after it read the restored files.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PENDING_DIR } from "../../core/plan/files";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { requireTools, run, tempDir } from "../helpers/run";

requireTools("unshare", "flock");
const tmp = tempDir("boot-rollback");
afterAll(() => tmp.remove());

// Each stand-in notes its call. lib.sh sees OpenRC running because node.env names it and
// /run/openrc (a tmpfs of this namespace's own) exists.
const STANDINS = ["rc-service", "rc-update", "systemctl", "nft", "wg", "wg-quick", "ip", "sysctl"];

/**
 * Runs `rollback.sh boot` where /var/lib is a fresh tmpfs holding, when `pendingPush`, a push
 * that replaced /var/lib/node/etc/wg0.conf and added /var/lib/node/etc/added. Returns the
 * script's status and stderr, the tools it called, and what it left.
 */
function bootRollback(pendingPush: boolean) {
  const scripts = readdirSync(PUSH_DIR).filter((f) => f.endsWith(".sh"));
  const setup = tmp.path;
  writeFileSync(join(setup, "calls"), "");
  const stand = STANDINS.map(
    (t) => `printf '#!/bin/sh\\necho "${t} $*" >>${setup}/calls\\n' >/var/lib/bin/${t}`,
  );
  const p = PENDING_DIR;
  // The service runs the pending push's own scripts; with none pending, a copy elsewhere.
  const from = pendingPush ? `${p}/scripts` : "/var/lib/scripts";
  const script = [
    "set -e",
    "mount -t tmpfs boot-rollback /var/lib",
    "mount -t tmpfs boot-rollback-run /run && mkdir /run/openrc",
    "mkdir -p /var/lib/bin /var/lib/node/etc",
    ...stand,
    "chmod 755 /var/lib/bin/*",
    `mkdir -p ${from}`,
    ...scripts.map((f) => `cp ${join(PUSH_DIR, f)} ${from}/${f}`),
    "echo new >/var/lib/node/etc/wg0.conf && echo added >/var/lib/node/etc/added",
    "echo 'net.ipv4.ip_forward = 1' >/var/lib/node/etc/sysctl.conf",
    ...(pendingPush
      ? [
          `mkdir -p ${p}/previous/files/var/lib/node/etc`,
          `echo old >${p}/previous/files/var/lib/node/etc/wg0.conf`,
          `echo /var/lib/node/etc/added >${p}/previous/absent`,
          `: >${p}/previous/sudo-groups && : >${p}/manifest`,
          `printf '%s\\n' "NODE_NAME='n'" "INIT_SYSTEM='openrc'" "SYSCTL_FILE='/var/lib/node/etc/sysctl.conf'" "ADMIN_USER='admin'" >${p}/node.env`,
          `echo 1-1 >${p}/token && echo generic >${p}/kind && echo 30 >${p}/window && echo 0 >${p}/activated`,
        ]
      : []),
    "set +e",
    `PATH=/var/lib/bin:$PATH sh ${from}/rollback.sh boot 2>/var/lib/stderr`,
    "echo status=$?",
    "echo stderr=$(cat /var/lib/stderr 2>/dev/null)",
    "echo wg0=$(cat /var/lib/node/etc/wg0.conf)",
    "echo added=$([ -e /var/lib/node/etc/added ] && echo present || echo absent)",
    `echo pending=$([ -e ${p} ] && echo present || echo absent)`,
    `cat /var/lib/clawd-mesh/rolled-back/* 2>/dev/null`,
  ].join("\n");
  const r = run("unshare", ["-m", "sh", "-c", script]);
  return { out: r.stdout + r.stderr, calls: readFileSync(join(setup, "calls"), "utf8") };
}

test("a pending push: the saved files are back, the record says by=boot, nothing was started", () => {
  const { out, calls } = bootRollback(true);
  expect(out).toContain("status=0");
  expect(out).toContain(
    "push 1-1 was not confirmed before the node restarted (its timer went with the restart)",
  );
  expect(out).toMatch(/^wg0=old$/m);
  expect(out).toMatch(/^added=absent$/m);
  expect(out).toMatch(/^pending=absent$/m);
  expect(out).toMatch(/^token=1-1$/m);
  expect(out).toMatch(/^by=boot$/m);
  expect(out).toMatch(/^failed=$/m);
  // The kernel settings now; no unit, firewall or interface touched.
  expect(calls).toContain("sysctl -q -p /var/lib/node/etc/sysctl.conf");
  expect(calls).not.toMatch(/^(systemctl|nft|wg|wg-quick|ip|rc-update) /m);
});

test("no pending push: nothing changes and nothing is recorded", () => {
  const { out, calls } = bootRollback(false);
  expect(out).toContain("status=0");
  expect(out).toMatch(/^wg0=new$/m);
  expect(out).toMatch(/^added=present$/m);
  expect(out).not.toMatch(/^by=/m);
  expect(calls).toBe("");
});
