// The helpers the role services run, run for real: SQLite's integrity check and k3s
// snapshots against real databases; the model puller against a stand-in `ollama` CLI (the
// real one cannot be installed here) that records what it is asked to pull.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { NIX_DIR } from "../../core/render/nixos";
import { requireTools, run, runOk, tempDir } from "../helpers/run";

requireTools("sqlite3", "sh");
const tmp = tempDir("helpers");
afterAll(() => tmp.remove());
const script = (name: string) => join(NIX_DIR, "clawd-mesh", name);

function database(path: string, rows: number): void {
  runOk("sqlite3", [
    path,
    `CREATE TABLE v(id INTEGER PRIMARY KEY, s TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ${rows}) INSERT INTO v SELECT x, hex(randomblob(200)) FROM c;`,
  ]);
}

describe("vault integrity check", () => {
  test("a sound database passes", () => {
    const db = join(tmp.path, "good.db");
    database(db, 500);
    const r = run("sh", [script("vault-integrity-check.sh")], {
      env: { ...process.env, CLAVITOR_DB: db },
    });
    expect([r.status, r.stdout.trim()]).toEqual([0, `integrity check of ${db}: ok`]);
  });

  test("a damaged database fails the unit", () => {
    const db = join(tmp.path, "bad.db");
    database(db, 500);
    const bytes = readFileSync(db);
    bytes.fill(0x5a, 8192, 16384); // overwrite pages in the middle of the table
    writeFileSync(db, bytes);
    const r = run("sh", [script("vault-integrity-check.sh")], {
      env: { ...process.env, CLAVITOR_DB: db },
    });
    expect(r.status).not.toBe(0);
  });

  test("no database yet is not an error", () => {
    const r = run("sh", [script("vault-integrity-check.sh")], {
      env: { ...process.env, CLAVITOR_DB: join(tmp.path, "none.db") },
    });
    expect(r.status).toBe(0);
  });
});

test("k3s snapshot: a checked copy of the datastore, the newest seven kept", () => {
  const db = join(tmp.path, "state.db");
  database(db, 300);
  const dir = join(tmp.path, "snapshots");
  mkdirSync(dir);
  for (let day = 1; day <= 8; day++)
    writeFileSync(join(dir, `state-202601${String(day).padStart(2, "0")}T030000Z.db`), "old");
  const env = { ...process.env, K3S_DB: db, K3S_SNAPSHOT_DIR: dir };
  const out = runOk("sh", [script("k3s-snapshot.sh")], { env });
  const kept = readdirSync(dir).sort();
  expect(kept).toHaveLength(7);
  expect(kept[0]).toBe("state-20260103T030000Z.db"); // the two oldest went
  const fresh = join(dir, kept.at(-1) as string);
  expect(out.trim()).toBe(`snapshot ${fresh}`);
  expect(runOk("sqlite3", [fresh, "SELECT count(*) FROM v;"]).trim()).toBe("300");
});

test("ollama models: only missing ones are pulled, so a re-push downloads nothing", () => {
  const bin = join(tmp.path, "bin");
  mkdirSync(bin);
  const have = join(tmp.path, "have");
  const pulls = join(tmp.path, "pulls");
  writeFileSync(have, "llama3.1:8b\n");
  writeFileSync(
    join(bin, "ollama"),
    [
      "#!/bin/sh",
      "# Stand-in for the ollama CLI: `show` knows what was pulled, `pull` records.",
      `case $1 in show) grep -qx "$2" ${have} ;; pull) echo "$2" >>${pulls}; echo "$2" >>${have} ;; *) exit 2 ;; esac`,
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "ollama"), 0o755);
  const list = join(tmp.path, "models.txt");
  writeFileSync(list, "llama3.1:8b\nqwen2.5-coder:3b\nmistral:7b-instruct-v0.3-q4_K_M\n");
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  runOk("sh", [script("ollama-models.sh"), list], { env });
  expect(readFileSync(pulls, "utf8").trim().split("\n")).toEqual([
    "qwen2.5-coder:3b",
    "mistral:7b-instruct-v0.3-q4_K_M",
  ]);
  const again = runOk("sh", [script("ollama-models.sh"), list], { env });
  expect(
    again
      .trim()
      .split("\n")
      .every((l) => l.startsWith("have ")),
  ).toBe(true);
  expect(readFileSync(pulls, "utf8").trim().split("\n")).toHaveLength(2);
  expect(existsSync(pulls)).toBe(true);
});
