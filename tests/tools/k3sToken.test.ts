// The k3s join token's handover (push/lib.sh: k3s_take_token, k3s_keep_token) run for real,
// with curl, against the lab's k3s stand-in on loopback (lab/standins.ts: k3s's supervisor
// as far as the push meets it, including that k3s checks credentials against the passwords it
// read at its start until it restarts). The lab tests the same through the program's pushes;
// here each case the push meets, one at a time, and a start of the stand-in after each.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { k3sCertificate, standInServer } from "../../lab/standins";
import { requireTools, run, tempDir } from "../helpers/run";

requireTools("curl", "openssl", "sh");
const tmp = tempDir("k3s-token");
const root = tmp.path;
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = join(root, "server.js");
const tokenFile = join(root, "k3s-token");
const record = join(root, "var/lib/rancher/k3s/server/token");
const requests = join(root, "var/lib/rancher/k3s/server/lab-token-requests");
const tls = join(root, "var/lib/rancher/k3s/server/tls");
let k3s: ChildProcess | undefined;

beforeAll(() => {
  mkdirSync(tls, { recursive: true });
  mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
  writeFileSync(server, standInServer());
  writeFileSync(join(root, "etc/rancher/k3s/config.yaml"), `token-file: ${tokenFile}\n`);
  k3sCertificate(tls);
});
afterAll(() => {
  k3s?.kill();
  tmp.remove();
});

/** (Re)starts the stand-in as k3s would start; resolves with its exit code if it exits at once. */
async function start(): Promise<number | undefined> {
  k3s?.kill();
  const p = spawn(process.execPath, [server, "127.0.0.1", String(port), "k3s", "0"], {
    env: { ...process.env, STAND_IN_ROOT: root },
    stdio: "ignore",
  });
  k3s = p;
  const exited = new Promise<number>((resolve) => p.on("exit", (code) => resolve(code ?? -1)));
  for (let i = 0; i < 50; i++) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
    if (typeof code === "number") return code;
    if (run("curl", ["-sk", "-o", "/dev/null", `https://127.0.0.1:${port}/readyz`]).status === 0) {
      return undefined;
    }
  }
  throw new Error("the stand-in did not listen within 5 s");
}

/** Runs a lib.sh function as the push does, with node.env's values for a k3s server. */
function lib(fn: string) {
  return run("sh", ["-c", `. "${PUSH_DIR}/lib.sh" && ${fn}`], {
    env: {
      ...process.env,
      NODE_NAME: "kube",
      NODE_OS: "debian",
      K3S_SUPERVISOR_URL: `https://127.0.0.1:${port}`,
      K3S_TOKEN_FILE: tokenFile,
      K3S_SERVER_TOKEN: record,
      K3S_SERVER_CA: join(tls, "server-ca.crt"),
    },
  });
}
const recorded = () =>
  readFileSync(record, "utf8")
    .trim()
    .replace(/^.*::server:/, "");
const asked = () => readFileSync(requests, "utf8").trim().split("\n");
const joins = (token: string) =>
  run(
    "curl",
    [
      "-sk",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-K",
      "-",
      `https://127.0.0.1:${port}/v1-k3s/x`,
    ],
    { input: `user = "node:${token}"\n` },
  ).stdout;

const [T0, T1, T2] = ["a".repeat(64), "b1".repeat(32), "c2".repeat(32)];

test("k3s never started with a token: nothing to hand over; its first start takes the file", async () => {
  writeFileSync(tokenFile, `${T0}\n`, { mode: 0o600 });
  expect(lib("k3s_take_token").status).toBe(0);
  expect(await start()).toBeUndefined();
  expect(joins(T0)).toBe("200");
  expect(recorded()).toBe(T0);
});

test("a new token is handed to the running k3s, signed in with the recorded one; after its restart agents join with it", async () => {
  writeFileSync(tokenFile, `${T1}\n`);
  const r = lib("k3s_take_token");
  expect([r.status, r.stderr]).toEqual([
    0,
    `clawd-mesh[kube]: k3s took the join token of ${tokenFile}\n`,
  ]);
  expect(recorded()).toBe(T1);
  expect(asked()).toEqual(["PUT server in"]);
  // Until it restarts, k3s still checks the token it started with.
  expect([joins(T0), joins(T1)]).toEqual(["200", "401"]);
  expect(await start()).toBeUndefined();
  expect([joins(T0), joins(T1)]).toEqual(["401", "200"]);
  // Nothing more to do: k3s runs with the file's token.
  expect(lib("k3s_take_token").status).toBe(0);
  expect(asked()).toHaveLength(1);
});

test("handed back before k3s restarted (a rollback): the recorded token is refused, the file's is taken", async () => {
  writeFileSync(tokenFile, `${T2}\n`);
  expect(lib("k3s_take_token").status).toBe(0);
  // The push is rolled back before any restart: the previous file comes back.
  writeFileSync(tokenFile, `${T1}\n`);
  expect(lib("k3s_take_token").status).toBe(0);
  expect(recorded()).toBe(T1);
  expect(asked().slice(1)).toEqual(["PUT server in", "PUT server refused", "PUT server in"]);
  expect(await start()).toBeUndefined();
  expect(joins(T1)).toBe("200");
});

test("k3s not answering: the handover fails, saying so, and nothing is recorded", () => {
  k3s?.kill();
  writeFileSync(tokenFile, `${T2}\n`);
  const r = lib("k3s_take_token");
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("k3s did not take its new join token (HTTP 000 from /v1-k3s/token)");
  expect(recorded()).toBe(T1);
  expect(r.stderr).not.toContain(T1);
  expect(r.stderr).not.toContain(T2);
});

test("k3s does not start on another token than its datastore's; at boot the restored file takes k3s's", async () => {
  // The file names T2, k3s's record T1 (as after a handover and a rollback at boot).
  expect(await start()).toBe(1);
  expect(lib("k3s_keep_token").status).toBe(0);
  expect(readFileSync(tokenFile, "utf8")).toBe(`${T1}\n`);
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  expect(await start()).toBeUndefined();
  expect(joins(T1)).toBe("200");
});
