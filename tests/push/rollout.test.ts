// The vault rollout as the program declares it, run under sh with a stand-in ssh and node: a
// presigned URL full of shell characters reaches the node's receiver as one argument, byte
// for byte, and nothing in it runs — on the operator's machine or on the node.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isHttpsUrl } from "../../core/fleet/checkSafety";
import { byType, runFleet, T } from "../helpers/program";
import { SHA, smallFleet } from "../helpers/fleets";
import { run, tempDir } from "../helpers/run";

const tmp = tempDir("rollout");
afterAll(() => tmp.remove());
const canary = join(tmp.path, "ran");

// Each piece would run a command if any shell read the URL as text: '&' ends a command, ';'
// starts one, $(…) substitutes one, $IFS is a space.
const HOSTILE =
  "https://dl.example.com/clavitor?X-Amz-Credential=AK%2F20260101&X-Amz-Signature=ab12" +
  `;touch$IFS${canary}1&x=$(touch$IFS${canary}2)&y=(1)!*+,=`;

// ssh -F CONFIG HOST COMMAND: the node's shell reads COMMAND, as sshd would hand it over; the
// receiver's absolute path is pointed at a stand-in that records its arguments.
const STUBS: Record<string, string> = {
  ssh: `#!/bin/sh
printf '%s\\n' "$3" >>"$STUB_DIR/hosts"
cmd=$(printf '%s' "$4" | sed "s#/usr/local/sbin/clawd-mesh-receive#$STUB_DIR/receiver#g")
exec sh -c "$cmd"
`,
  sudo: `#!/bin/sh
[ "$1" = -n ] && shift
exec "$@"
`,
  receiver: `#!/bin/sh
printf '%s\\0' "$@" >>"$STUB_DIR/argv"
`,
  curl: "#!/bin/sh\nexit 0\n",
};

async function rolloutCommand(binaryUrl: string) {
  const fleet = smallFleet();
  fleet.nodes[1].vault.binaryUrl = binaryUrl;
  const r = await runFleet(fleet);
  const [rollout] = byType(r, T.rollout);
  const command = r.resources.find((x) => x.parent === rollout?.urn && x.type === T.localCommand);
  if (!command) throw new Error("no rollout command");
  return command.inputs as { create: string; environment: Record<string, string> };
}

function runRollout(
  command: { create: string; environment: Record<string, string> },
  stubs: Record<string, string> = {},
) {
  for (const f of ["hosts", "argv", "dropped"]) rmSync(join(tmp.path, f), { force: true });
  for (const [name, text] of Object.entries({ ...STUBS, ...stubs })) {
    writeFileSync(join(tmp.path, name), text);
    chmodSync(join(tmp.path, name), 0o755);
  }
  const ran = run("sh", ["-c", command.create], {
    input: "",
    env: {
      ...command.environment,
      PATH: `${tmp.path}:${process.env.PATH}`,
      STUB_DIR: tmp.path,
      HEALTH_SECONDS: "2",
    },
  });
  const argv = existsSync(join(tmp.path, "argv"))
    ? readFileSync(join(tmp.path, "argv"), "utf8").split("\0").slice(0, -1)
    : [];
  return { ...ran, argv };
}

test("the hostile URL is one the validation accepts: a presigned URL may hold all of this", () => {
  expect(isHttpsUrl(HOSTILE)).toBe(true);
});

test("a presigned URL with & ; $( ) reaches the receiver byte-exact, and nothing else runs", async () => {
  const command = await rolloutCommand(HOSTILE);
  expect(command.environment.CLAWD_MESH_BINARY).toBe(HOSTILE);
  const ran = runRollout(command);
  expect(ran.stderr).not.toMatch(/not found|syntax error/);
  expect(ran.status).toBe(0);
  expect(ran.argv).toEqual(["vault-install", HOSTILE, SHA]);
  for (const n of [1, 2]) expect(existsSync(`${canary}${n}`)).toBe(false);
  expect(readFileSync(join(tmp.path, "hosts"), "utf8")).toBe("web\n");
});

test("a quote in an argument is carried too, though validation refuses it in a URL", async () => {
  const command = await rolloutCommand("https://dl.example.com/clavitor");
  const url = `https://dl.example.com/it's';touch$IFS${canary}3;'`;
  const ran = runRollout({
    ...command,
    environment: { ...command.environment, CLAWD_MESH_BINARY: url },
  });
  expect(ran.argv).toEqual(["vault-install", url, SHA]);
  expect(existsSync(`${canary}3`)).toBe(false);
});

// ssh that loses its connection (exit 255, as ssh does) the first time, before the command runs.
const DROPS_ONCE = `#!/bin/sh
if [ ! -f "$STUB_DIR/dropped" ]; then
  : >"$STUB_DIR/dropped"
  echo "client_loop: send disconnect: Broken pipe" >&2
  exit 255
fi
${STUBS.ssh?.replace("#!/bin/sh\n", "")}`;

test("a connection that drops during the install is tried once more; the node's own refusal is not", async () => {
  const command = await rolloutCommand("https://dl.example.com/clavitor");
  const again = runRollout(command, { ssh: DROPS_ONCE });
  expect(again.stderr).toContain(
    "rollout: web: the connection failed (ssh exit 255); trying once more",
  );
  expect(again.status).toBe(0);
  expect(again.argv).toEqual(["vault-install", "https://dl.example.com/clavitor", SHA]);
  // The first connection dropped before reaching the node; the second one installed.
  expect(existsSync(join(tmp.path, "dropped"))).toBe(true);
  expect(readFileSync(join(tmp.path, "hosts"), "utf8")).toBe("web\n");

  const refused = runRollout(command, { receiver: "#!/bin/sh\nexit 1\n" });
  expect(refused.status).toBe(1);
  expect(refused.stderr).not.toContain("trying once more");
  expect(refused.stderr).toContain("rollout stopped at web: the install was refused or failed");
  expect(readFileSync(join(tmp.path, "hosts"), "utf8")).toBe("web\n");
});
