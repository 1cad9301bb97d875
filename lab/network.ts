// The simulated internet: a router in namespace cml-inet with one veth per attached host. Each
// host keeps its 198.18.x.y/15 address on eth0 as if it shared one link with every other host;
// the router answers its ARP for them (proxy ARP) and routes by a /32 per host. A router rather
// than a bridge because the providers' firewalls are stateful and nftables' bridge family here
// has no conntrack; in a router, the forward hook sees every packet between two hosts and
// `ct state` works. Addresses come from 198.18.0.0/15, set aside for testing networks, and only
// the lab's own namespaces hold them.
import { must } from "./exec";
import { edgeChain, renderEdge, type EdgeRule } from "./edge";
import type { StateRecorder } from "./state";

export type { EdgeRule } from "./edge";

export const ROUTER_NETNS = "cml-inet";
/**
 * Where "from the internet" starts: a host out there. The router's own traffic would leave by
 * its output hook and pass no edge, so probes start here and cross edges like anyone's.
 */
export const INTERNET_NETNS = "cml-www";
export const INTERNET_IP = "198.18.0.1";
export const OPERATOR_IP = "198.18.0.2";
/** The router's source for ARP and ICMP errors. */
const ROUTER_IP = "198.18.0.254";
const PREFIX = 15;
const TABLE = "inet cml_edge";

const KINDS = { node: 1, peer: 2, router: 3, cloud: 4, elastic: 5 } as const;

/**
 * Public addresses: nodes 198.18.1.x, peers 198.18.2.x, NAT routers 198.18.3.x, cloud
 * instances 198.18.4.x, elastic addresses 198.18.5.x.
 */
export function labAddress(kind: keyof typeof KINDS, index: number): string {
  if (index < 0 || index > 249) throw new Error("the lab holds at most 250 of each kind");
  return `198.18.${KINDS[kind]}.${index + 1}`;
}

/** `ip` commands in one namespace, in one process: each process costs tens of milliseconds. */
const ipBatch = (netns: string, commands: readonly string[]) =>
  must("ip", ["-n", netns, "-batch", "-"], { input: `${commands.join("\n")}\n` });
const sysctl = (netns: string, settings: readonly string[]) =>
  must("ip", ["netns", "exec", netns, "sysctl", "-q", ...settings.flatMap((s) => ["-w", s])]);
const nft = (script: string) =>
  must("ip", ["netns", "exec", ROUTER_NETNS, "nft", "-f", "-"], { input: script });

/** What a later process needs to take a link up again (the lab outlives each engine run). */
export interface LinkRecord {
  readonly netns: string;
  readonly address: string;
  readonly outside: string;
  readonly ifname: string;
}

/** One host's port on the internet: its address and the provider's firewall in front of it. */
export class Link {
  constructor(
    readonly netns: string,
    private current: string,
    /** The router's end of the veth, which names the edge chain too. */
    private readonly outside: string,
    private readonly ifname: string,
  ) {}

  get address(): string {
    return this.current;
  }

  record(): LinkRecord {
    return { netns: this.netns, address: this.current, outside: this.outside, ifname: this.ifname };
  }

  static from(r: LinkRecord): Link {
    return new Link(r.netns, r.address, r.outside, r.ifname);
  }

  /**
   * The provider's firewall at the host's edge: undefined for none (everything passes), or
   * the rules that admit inbound traffic — anything else inbound is dropped, replies to the
   * host's own connections pass. Replaced in one transaction.
   */
  setEdge(rules: readonly EdgeRule[] | undefined): void {
    nft(renderEdge(TABLE, this.outside, rules));
  }

  /** Moves the host to another address (an Elastic IP); the old one stops answering at once. */
  readdress(address: string): void {
    const old = this.current;
    if (address === old) return;
    // The old one goes first: in the same /15 the new one would be its secondary, and Linux
    // drops secondaries with their primary.
    ipBatch(this.netns, [
      `address del ${old}/${PREFIX} dev ${this.ifname}`,
      `address add ${address}/${PREFIX} dev ${this.ifname}`,
    ]);
    ipBatch(ROUTER_NETNS, [
      `route del ${old}/32 dev ${this.outside}`,
      `route add ${address}/32 dev ${this.outside}`,
    ]);
    this.current = address;
  }

  /** Unplugs the host: its veth, route and edge chain go. */
  detach(): void {
    const chain = edgeChain(this.outside);
    nft(`delete element ${TABLE} edges { "${this.outside}" }\ndelete chain ${TABLE} ${chain}\n`);
    ipBatch(ROUTER_NETNS, [`link del ${this.outside}`]);
  }
}

export class Internet {
  private veths = 0;

  /** The internet a lab made earlier, for a later process to plug more hosts into. */
  static open(state: StateRecorder): Internet {
    const internet = Object.create(Internet.prototype) as Internet;
    const links = must("ip", ["-n", ROUTER_NETNS, "-o", "link", "show"]);
    const used = [...links.matchAll(/\bcmv(\d+)@/g)].map((m) => Number(m[1]));
    Object.assign(internet, { state, veths: Math.max(-1, ...used) + 1 });
    return internet;
  }

  constructor(private readonly state: StateRecorder) {
    must("ip", ["netns", "add", ROUTER_NETNS]);
    state.netns(ROUTER_NETNS);
    ipBatch(ROUTER_NETNS, ["link set lo up", `address add ${ROUTER_IP}/32 dev lo`]);
    sysctl(ROUTER_NETNS, ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
    nft(
      [
        `table ${TABLE} {`,
        "  map edges { type ifname : verdict; }",
        "  chain forward {",
        "    type filter hook forward priority filter; policy accept;",
        "    ct state established,related accept",
        "    oifname vmap @edges",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    must("ip", ["netns", "add", INTERNET_NETNS]);
    state.netns(INTERNET_NETNS);
    ipBatch(INTERNET_NETNS, ["link set lo up"]);
    this.attach(INTERNET_NETNS, INTERNET_IP);
  }

  /** Plugs `netns` into the internet as `ifname` with `address`; open until an edge is set. */
  attach(netns: string, address: string, ifname = "eth0"): Link {
    const outside = `cmv${this.veths++}`;
    const veth = `link add ${outside} netns ${ROUTER_NETNS} type veth peer ${ifname} netns ${netns}`;
    must("ip", veth.split(" "));
    ipBatch(netns, [`address add ${address}/${PREFIX} dev ${ifname}`, `link set ${ifname} up`]);
    ipBatch(ROUTER_NETNS, [`link set ${outside} up`, `route add ${address}/32 dev ${outside}`]);
    // Linux delays a proxied ARP answer by up to 0.8 s on purpose; a host's first packet to
    // another would wait for it.
    sysctl(ROUTER_NETNS, [`net.ipv4.neigh.${outside}.proxy_delay=0`]);
    const chain = edgeChain(outside);
    nft(
      `add chain ${TABLE} ${chain}\nadd element ${TABLE} edges { "${outside}" : jump ${chain} }\n`,
    );
    return new Link(netns, address, outside, ifname);
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
