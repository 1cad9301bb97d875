// push/lib.sh's wg_public_state with a stand-in `wg` (no root, no interface): what a drift check
// reads of WireGuard holds no key, does not move with roaming, and does not depend on the
// order wireguard-go lists peers in.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PUSH_DIR } from "../../core/render/pushArchive";

const CONF = `[Interface]
Address = 10.0.0.1/24
ListenPort = 51820
PostUp = wg set %i private-key /etc/wireguard/wg0.key

[Peer]
# hub
PublicKey = HUB=
AllowedIPs = 10.0.0.0/24
Endpoint = 198.51.100.1:51820

[Peer]
# laptop
PublicKey = LAPTOP=
AllowedIPs = 10.0.0.21/32
`;

function showconf(peers: string[]): string {
  return [
    "[Interface]",
    "ListenPort = 51820",
    "PrivateKey = c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2U=",
    "",
    ...peers,
    "",
  ].join("\n");
}
const HUB =
  "[Peer]\nPublicKey = HUB=\nPresharedKey = cHNrcHNr\nAllowedIPs = 10.0.0.0/24\nEndpoint = 198.51.100.1:51820\nPersistentKeepalive = 25\n";
const laptop = (port: number) =>
  `[Peer]\nPublicKey = LAPTOP=\nAllowedIPs = 10.0.0.21/32\nEndpoint = 203.0.113.9:${port}\n`;

function wgPublicState(output: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wg-state-"));
  try {
    writeFileSync(join(dir, "wg0.conf"), CONF);
    writeFileSync(join(dir, "showconf"), output);
    writeFileSync(join(dir, "wg"), `#!/bin/sh\ncat "${join(dir, "showconf")}"\n`, { mode: 0o755 });
    const r = spawnSync(
      "sh",
      [
        "-c",
        `. "${join(PUSH_DIR, "lib.sh")}" && WG_INTERFACE=wg0 wg_public_state "$1"`,
        "sh",
        join(dir, "wg0.conf"),
      ],
      { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` } },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("no private or preshared key; a configured endpoint kept, a roaming one left out; peers sorted", () => {
  const state = wgPublicState(showconf([HUB, laptop(40000)]));
  expect(state).toBe(
    [
      "interface: ListenPort = 51820",
      "peer HUB=",
      "peer HUB=: AllowedIPs = 10.0.0.0/24",
      "peer HUB=: Endpoint = 198.51.100.1:51820",
      "peer HUB=: PersistentKeepalive = 25",
      "peer LAPTOP=",
      "peer LAPTOP=: AllowedIPs = 10.0.0.21/32",
      "",
    ].join("\n"),
  );
  // The laptop roamed and wireguard-go listed the peers the other way round: the same state.
  expect(wgPublicState(showconf([laptop(51234), HUB]))).toBe(state);
});
