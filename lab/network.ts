// The simulated internet: one bridge, in a namespace of its own, that every host's public
// interface plugs into. Addresses come from 198.18.0.0/15, the range set aside for testing
// networks, and only the lab's own namespaces ever hold them.
import { must } from "./exec";
import type { StateRecorder } from "./state";

export const INTERNET_NETNS = "cml-inet";
export const INTERNET_IP = "198.18.0.1";
export const OPERATOR_IP = "198.18.0.2";
const PREFIX = 15;

/** Public addresses: nodes 198.18.1.x, peers 198.18.2.x, NAT routers 198.18.3.x. */
export function labAddress(kind: "node" | "peer" | "router", index: number): string {
  if (index < 0 || index > 249) throw new Error("the lab holds at most 250 of each kind");
  const third = { node: 1, peer: 2, router: 3 }[kind];
  return `198.18.${third}.${index + 1}`;
}

export class Internet {
  private veths = 0;

  constructor(private readonly state: StateRecorder) {
    must("ip", ["netns", "add", INTERNET_NETNS]);
    state.netns(INTERNET_NETNS);
    const n = ["-n", INTERNET_NETNS];
    must("ip", [...n, "link", "set", "lo", "up"]);
    must("ip", [...n, "link", "add", "br0", "type", "bridge"]);
    must("ip", [...n, "address", "add", `${INTERNET_IP}/${PREFIX}`, "dev", "br0"]);
    must("ip", [...n, "link", "set", "br0", "up"]);
  }

  /** Plugs `netns` into the internet as `ifname` with `address`. */
  attach(netns: string, address: string, ifname = "eth0"): void {
    const outside = `cmv${this.veths++}`;
    must("ip", [
      "link",
      "add",
      outside,
      "netns",
      INTERNET_NETNS,
      "type",
      "veth",
      "peer",
      ifname,
      "netns",
      netns,
    ]);
    must("ip", ["-n", INTERNET_NETNS, "link", "set", outside, "master", "br0", "up"]);
    must("ip", ["-n", netns, "address", "add", `${address}/${PREFIX}`, "dev", ifname]);
    must("ip", ["-n", netns, "link", "set", ifname, "up"]);
  }

  /**
   * A NAT router for a host with no public address: the host gets 192.168.<n>.2 behind it and
   * leaves through the router's public address, masqueraded. Only a TCP forward to the host's
   * SSH port comes in: it stands for the console or LAN access such a host is first set up by.
   */
  natRouter(
    index: number,
    hostNetns: string,
    sshPort: number,
  ): { publicIp: string; lanIp: string } {
    const router = `cml-nat${index}`;
    must("ip", ["netns", "add", router]);
    this.state.netns(router);
    must("ip", ["-n", router, "link", "set", "lo", "up"]);
    const publicIp = labAddress("router", index);
    this.attach(router, publicIp, "wan");
    const lan = `192.168.${100 + index}`;
    must("ip", [
      "link",
      "add",
      "lan",
      "netns",
      router,
      "type",
      "veth",
      "peer",
      "eth0",
      "netns",
      hostNetns,
    ]);
    must("ip", ["-n", router, "address", "add", `${lan}.1/24`, "dev", "lan"]);
    must("ip", ["-n", router, "link", "set", "lan", "up"]);
    must("ip", ["-n", hostNetns, "address", "add", `${lan}.2/24`, "dev", "eth0"]);
    must("ip", ["-n", hostNetns, "link", "set", "eth0", "up"]);
    must("ip", ["-n", hostNetns, "route", "add", "default", "via", `${lan}.1`]);
    must("ip", ["netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    const rules = [
      "table ip nat {",
      "  chain prerouting {",
      "    type nat hook prerouting priority dstnat; policy accept;",
      `    iifname "wan" tcp dport ${sshPort} dnat to ${lan}.2:${sshPort}`,
      "  }",
      "  chain postrouting {",
      "    type nat hook postrouting priority srcnat; policy accept;",
      '    oifname "wan" masquerade',
      "  }",
      "}",
      "",
    ].join("\n");
    must("ip", ["netns", "exec", router, "nft", "-f", "-"], { input: rules });
    return { publicIp, lanIp: `${lan}.2` };
  }
}
