// `npm run drift` end to end where no node answers: the node is named with ssh's own message and
// the exit status is 3, not 0 or 1; without a stack it is a usage error, 2.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_DIR } from "../helpers/stacks";

const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const drift = (args: string[]) =>
  spawnSync(TSX, [join(PROJECT_DIR, "cli", "drift.ts"), ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 60_000,
  });

test("a node that refuses the connection: named, and exit status 3", () => {
  const dir = mkdtempSync(join(tmpdir(), "drift-cli-"));
  try {
    // ollama-home's one node, deployed, at an address where nothing listens.
    const outputs = {
      nodes: {
        ai: {
          wgPublicKey: "7vqJJcJ3K161G1eF9yMRqnOL+nW3uomb6rxd3l2gYGw=",
          publicIpv4: "192.0.2.20",
        },
      },
      sshConfig: "Host ai\n    HostName 127.0.0.1\n    Port 9\n    User admin\n",
    };
    writeFileSync(join(dir, "outputs.json"), JSON.stringify(outputs));
    const r = drift(["--stack", "ollama-home", "--outputs", join(dir, "outputs.json")]);
    expect(r.stdout).toBe(
      [
        "drift home: 1 node(s) checked, 0 drifted, 1 unreachable",
        "ai: NOT CHECKED: ssh could not reach it (exit 255): ssh: connect to host 127.0.0.1 port 9: Connection refused",
        "",
        "Not checked: ai. Drift there is unknown; reach them over their management path and run this again.",
        "",
      ].join("\n"),
    );
    expect(r.status).toBe(3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("no stack: usage, exit status 2", () => {
  const r = drift([]);
  expect(r.stderr).toContain("usage: npm run drift -- --stack <stack>");
  expect(r.status).toBe(2);
}, 60_000);
