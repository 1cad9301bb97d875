// nft reads every rendered nftables.conf: `nft -c` accepts it, and it loads for real in a
// throwaway namespace, twice, because a second push must replace the table, not fail.
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { allNodes, stackSynthesis } from "../helpers/stacks";
import { requireTools, run, tempDir } from "../helpers/run";
import { createNetns, type Netns } from "../helpers/netns";

requireTools("nft", "ip");
const tmp = tempDir("nft");
let ns: Netns;
beforeAll(() => (ns = createNetns("nft")));
afterAll(() => {
  ns.remove();
  tmp.remove();
});

test.each(allNodes())("%s/%s: nft -c accepts it, and it loads twice", (stack, name) => {
  const file = join(tmp.path, `${stack}-${name}.nft`);
  writeFileSync(file, stackSynthesis(stack).files.get(`nodes/${name}/nftables.conf`) ?? "");
  const check = run("nft", ["-c", "-f", file]);
  expect(check.stderr).toBe("");
  expect(check.status).toBe(0);
  ns.exec("nft", ["-f", file]);
  ns.exec("nft", ["-f", file]);
  const tables = ns.exec("nft", ["list", "tables"]);
  expect(tables.trim()).toBe("table inet clawd_mesh");
  const hook = ns.exec("nft", ["list", "chain", "inet", "clawd_mesh", "input"]);
  expect(hook).toContain("policy drop");
});

// First contact's variant: the same ruleset plus SSH from the operator's networks only.
const generic = allNodes().filter(([stack, name]) =>
  stackSynthesis(stack).files.has(`nodes/${name}/bootstrap/nftables.conf`),
);
test.each(generic)(
  "%s/%s: the first-contact variant adds SSH from the operator's networks only",
  (stack, name) => {
    const s = stackSynthesis(stack);
    const file = join(tmp.path, `${stack}-${name}.bootstrap.nft`);
    const text = s.files.get(`nodes/${name}/bootstrap/nftables.conf`) ?? "";
    writeFileSync(file, text);
    expect(run("nft", ["-c", "-f", file]).status).toBe(0);
    const normal = (s.files.get(`nodes/${name}/nftables.conf`) ?? "").split("\n");
    const added = text.split("\n").filter((l) => !normal.includes(l));
    const { firstContactFrom, port } = s.fleet.ssh;
    const from =
      firstContactFrom.length > 0
        ? `ip saddr ${firstContactFrom.length === 1 ? firstContactFrom[0] : `{ ${firstContactFrom.join(", ")} }`} `
        : "";
    expect(added.map((l) => l.trim())).toEqual([
      `${from}tcp dport ${port} accept comment "first contact, until the mesh is proven"`,
    ]);
  },
);
