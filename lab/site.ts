// The lab as it stands on this machine, kept on disk so every process — the lab command, each
// engine run, a test — can take it up again: the internet, the operator's machine, the hosts
// existing before the program (as their owners left them), the peers' machines, and whatever
// the emulated clouds booted. Providers act on it through `cloud()`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiStore, type BootSpec, type Cloud, type DnsRecord } from "./engine/providers/cloud";
import { removeLabFiles } from "./down";
import type { Os } from "../core/fleet/catalog";
import { initSystemOf } from "../core/plan/osProfile";
import { LabHost, type HostInit } from "./host";
import { bootImage, handOver, newHost } from "./image";
import { SystemdHost } from "./systemdHost";
import { installRoleSoftware } from "./standins";
import { Internet, labAddress, Link, OPERATOR_IP, type EdgeRule, type LinkRecord } from "./network";
import { LAB_ROOT, StateRecorder } from "./state";
import { assign, loadAssignments, saveAssignments, type Assignments, type RawFleet } from "./twin";

export type HostKind = "operator" | "existing" | "cloud" | "peer";

export interface HostRecord {
  readonly name: string;
  readonly netns: string;
  readonly kind: HostKind;
  readonly links: readonly LinkRecord[];
  /** Its own address, which an Elastic IP stands in for while it is assigned. */
  readonly ownAddress?: string;
  readonly init?: HostInit;
}

export interface SiteRecord {
  readonly stack: string;
  readonly hosts: Record<string, HostRecord>;
  /** Next free cloud and elastic address numbers. */
  readonly next: { cloud: number; elastic: number };
  /** What nodes whose OS runs systemd boot: systemd, or the init-less host (faster). */
  readonly nodeInit?: HostInit;
}

/** Whether an OS runs systemd (its profile's init): its nodes' lab hosts boot it unless the lab is all plain. */
const osHasSystemd = (os: Os): boolean => initSystemOf(os) === "systemd";

const FILE = join(LAB_ROOT, "site.json");
export const OPERATOR_NETNS = "cml-operator";

export class Site {
  private constructor(
    readonly record: SiteRecord,
    readonly state: StateRecorder,
    readonly internet: Internet,
    readonly assignments: Assignments,
  ) {}

  /** A new lab: the internet and the operator's machine; hosts come with `provide`. */
  static create(stack: string, nodeInit: HostInit = "plain"): Site {
    // No lab is up (the caller checked): files an interrupted one left behind belong to none.
    removeLabFiles();
    const state = new StateRecorder({ stack, netns: [], mounts: [], dirs: [] });
    const internet = new Internet(state);
    const site = new Site(
      { stack, hosts: {}, next: { cloud: 0, elastic: 0 }, nodeInit },
      state,
      internet,
      loadAssignments(),
    );
    const operator = new LabHost("operator", OPERATOR_NETNS, state);
    site.keep(operator, "operator", [operator.plugInto(internet, OPERATOR_IP)]);
    return site;
  }

  static open(): Site {
    if (!existsSync(FILE)) throw new Error("no lab is up: npm run lab -- --stack <stack> --keep");
    const state = StateRecorder.open();
    const record = JSON.parse(readFileSync(FILE, "utf8")) as SiteRecord;
    return new Site(record, state, Internet.open(state), loadAssignments());
  }

  /**
   * The hosts the stack names that exist before the program does anything: its existing nodes,
   * as their owners left them (the admin account with the operator's key and sudo), and its
   * peers' machines. Called again after the stack file changes: names already here are kept.
   */
  async provide(raw: RawFleet, log: (line: string) => void): Promise<void> {
    const made = assign(raw, this.assignments);
    saveAssignments(this.assignments);
    const sshPort = raw.ssh?.port ?? 22;
    // Booted side by side, as machines of different owners are already running.
    await Promise.all(
      made.hosts.map(async (name) => {
        const a = this.assignments.existing[name];
        if (!a) return;
        const node = (raw.nodes as RawFleet[]).find((n) => n.name === name);
        const init = this.initOf(node?.os as Os);
        const started = Date.now();
        const host = await newHost(name, `cml-n${a.index}`, this.state, init);
        if (a.address) this.keep(host, "existing", [host.plugInto(this.internet, a.address)]);
        else {
          this.internet.natRouter(a.index, host.netns, sshPort);
          this.keep(host, "existing", []);
        }
        handOver(host, {
          loginUser: raw.ssh.adminUser,
          authorizedKeys: [`${this.assignments.operatorKey.publicKey} lab-operator`],
          hostKey: a.hostKey,
          sshPort,
        });
        installRoleSoftware(host, node?.roles ?? []);
        const at = a.address ?? `NAT behind ${a.router}`;
        log(`  ${name}: an existing host, at ${at} (${init}, up in ${since(started)} s)`);
      }),
    );
    for (const name of made.peers) {
      const p = this.assignments.peers[name];
      if (!p) continue;
      const host = new LabHost(name, `cml-p${p.index}`, this.state);
      this.keep(host, "peer", [host.plugInto(this.internet, p.address)]);
    }
  }

  /** The init a node's host boots, by the node's OS. */
  initOf(os: Os): HostInit {
    return this.record.nodeInit === "systemd" && osHasSystemd(os) ? "systemd" : "plain";
  }

  host(id: string): LabHost {
    const r = this.record.hosts[id];
    if (!r) throw new Error(`the lab has no host ${id}`);
    return (r.init === "systemd" ? SystemdHost : LabHost).open(
      r.name,
      r.netns,
      this.state,
      r.links.map((l) => Link.from(l)),
    );
  }

  /** The host of a node or peer the lab made (not a cloud instance), by its name. */
  named(name: string, kind: HostKind): LabHost | undefined {
    const id = Object.keys(this.record.hosts).find(
      (k) => this.record.hosts[k]?.name === name && this.record.hosts[k]?.kind === kind,
    );
    return id ? this.host(id) : undefined;
  }

  operator(): LabHost {
    return this.host(OPERATOR_NETNS);
  }

  /** `booted`: what the lab adds to a new instance (stand-ins for its roles' software). */
  cloud(log: (line: string) => void, booted: (host: LabHost) => void = () => undefined): Cloud {
    return new LabCloud(this, log, booted);
  }

  keep(host: LabHost, kind: HostKind, links: readonly Link[]): void {
    const own = this.record.hosts[host.netns]?.ownAddress ?? links[0]?.address;
    this.record.hosts[host.netns] = {
      name: host.name,
      netns: host.netns,
      kind,
      links: links.map((l) => l.record()),
      ...(own && { ownAddress: own }),
      ...(host.init === "systemd" && { init: host.init }),
    };
    this.save();
  }

  saveAssignments(): void {
    saveAssignments(this.assignments);
  }

  forget(id: string): void {
    delete this.record.hosts[id];
    this.save();
  }

  save(): void {
    mkdirSync(LAB_ROOT, { recursive: true });
    writeFileSync(FILE, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}

/** The emulated clouds' view of the lab: instances are hosts booted from an image. */
class LabCloud implements Cloud {
  readonly api = new ApiStore(join(LAB_ROOT, "cloud.json"));

  constructor(
    private readonly site: Site,
    private readonly log: (line: string) => void,
    private readonly booted: (host: LabHost) => void,
  ) {}

  async boot(spec: BootSpec) {
    const address = labAddress("cloud", this.site.record.next.cloud++);
    const started = Date.now();
    const { host, link } = await bootImage(
      { internet: this.site.internet, state: this.site.state, log: this.log },
      {
        name: spec.name,
        loginUser: spec.image.loginUser,
        authorizedKeys: spec.authorizedKeys,
        userData: spec.userData,
        address,
        ...(spec.edge && { edge: spec.edge }),
        init: this.site.initOf(spec.image.os),
      },
    );
    this.site.keep(host, "cloud", [link]);
    this.booted(host);
    this.log(
      `  ${spec.name}: booted ${spec.image.description} at ${address} (${host.init}, up in ${since(started)} s)`,
    );
    return { hostId: host.netns, ipv4: address };
  }

  async destroy(hostId: string) {
    this.site.host(hostId).destroy();
    this.site.forget(hostId);
  }

  async setEdge(hostId: string, rules: readonly EdgeRule[] | undefined) {
    for (const link of this.site.host(hostId).ports) link.setEdge(rules);
  }

  async allocateAddress() {
    const ip = labAddress("elastic", this.site.record.next.elastic++);
    this.site.save();
    return ip;
  }

  async releaseAddress() {}

  async assignAddress(hostId: string, ip: string | undefined) {
    const r = this.site.record.hosts[hostId];
    const host = this.site.host(hostId);
    const link = host.ports[0];
    if (!r || !link) throw new Error(`the lab has no host ${hostId}`);
    link.readdress(ip ?? r.ownAddress ?? link.address);
    this.site.keep(host, r.kind, [link]);
  }

  async publishRecords(records: readonly DnsRecord[]) {
    writeFileSync(join(LAB_ROOT, "dns.json"), `${JSON.stringify(records, null, 2)}\n`);
  }
}

function since(started: number): string {
  return ((Date.now() - started) / 1000).toFixed(1);
}
