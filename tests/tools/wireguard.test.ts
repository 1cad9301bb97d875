// wg reads every rendered wg0.conf: wg-quick strips its own keys, wg setconf loads the rest
// onto a real (userspace) WireGuard interface, and `wg showconf` must give back the plan.
// The interface is never brought up, and its namespace has no route anywhere.
import { join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { allNodes, stackSynthesis } from "../helpers/stacks";
import { requireTools, run, runOk, tempDir } from "../helpers/run";
import { createNetns, WIREGUARD_GO_ENV, type Netns } from "../helpers/netns";
import { parseWgConf } from "../helpers/wg";

requireTools("wg", "wg-quick", "wireguard-go", "ip");
const tmp = tempDir("wg");
const IFACE = `cmwg${process.pid % 100000}`;
let ns: Netns;

beforeAll(() => {
  ns = createNetns("wg");
  runOk("ip", ["netns", "exec", ns.name, "wireguard-go", IFACE], { env: WIREGUARD_GO_ENV });
});
afterAll(() => {
  run("ip", ["netns", "exec", ns.name, "ip", "link", "del", IFACE]);
  ns.remove();
  tmp.remove();
});

test.each(allNodes())("%s/%s: wg setconf loads it as planned", (stack, name) => {
  const node = stackSynthesis(stack).plan.nodes.find((n) => n.name === name)!;
  // wg-quick takes the interface name from the file name, as in /etc/wireguard/wg0.conf.
  const dir = join(tmp.path, `${stack}-${name}`);
  mkdirSync(dir);
  const file = join(dir, "wg0.conf");
  writeFileSync(file, stackSynthesis(stack).files.get(`nodes/${name}/wg0.conf`) ?? "", {
    mode: 0o600,
  });
  const stripped = runOk("wg-quick", ["strip", file]);
  expect(stripped).not.toMatch(/PrivateKey|Address|PostUp/);
  const strippedFile = `${file}.stripped`;
  writeFileSync(strippedFile, stripped, { mode: 0o600 });
  ns.exec("wg", ["setconf", IFACE, strippedFile]);
  const held = parseWgConf(ns.exec("wg", ["showconf", IFACE]));

  expect(held.listenPort).toBe(node.wireguard.listenPort);
  expect(held.peers.size).toBe(node.wireguard.peers.length);
  for (const peer of node.wireguard.peers) {
    expect(held.peers.get(peer.publicKey)).toEqual({
      allowedIps: [...peer.allowedIps],
      ...(peer.endpoint && { endpoint: peer.endpoint }),
      ...(peer.persistentKeepalive && { keepalive: peer.persistentKeepalive }),
    });
  }
  const link = ns.exec("ip", ["-o", "link", "show", IFACE]);
  expect(link).toMatch(/state DOWN|<[^>]*POINTOPOINT[^>]*>(?![^\n]*UP)/);
});
