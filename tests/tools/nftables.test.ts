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
