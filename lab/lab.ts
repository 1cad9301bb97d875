// The lab: a stack's hosts as network namespaces on a simulated internet (lab/site.ts), driven
// by the program itself through the lab's engine (lab/engine/): each `up` is a run of index.ts
// in a process of its own, its Vultr and AWS instances booting lab hosts, its firewalls
// enforced at their edges, its pushes running cli/push.ts over real SSH from the operator's
// machine. The lab keeps no orchestration of its own beyond what an operator does by hand:
// bring up their own WireGuard peer, and the clients theirs.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadStackFleet } from "../core/fleet/load";
import { sourcesOf } from "../core/fleet/selectors";
import { validateFleet } from "../core/fleet/validate";
import type { Fleet } from "../core/fleet/fleet";
import { managementRoute } from "../core/plan/route";
import { pinnedSshDefaults, renderKnownHosts } from "../core/render/sshConfig";
import { synthesize, type Synthesis } from "../core/synth";
import { checkpointFile } from "./engine/stacks";
import { reveal, type Props } from "./engine/values";
import { must, type Ran } from "./exec";
import { LAB_ROOT } from "./state";
import type { HostInit, LabHost } from "./host";
import { INTERNET_NETNS, OPERATOR_IP } from "./network";
import { OPERATOR_NETNS, Site } from "./site";
import { vaultBinary } from "./standins";
import {
  loadAssignments,
  loadOverride,
  saveAssignments,
  saveOverride,
  twinFleet,
  type Assignments,
  type RawFleet,
} from "./twin";

const PROJECT_DIR = resolve(__dirname, "..");
const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const ENGINE = join(__dirname, "engine", "cli.ts");
/** The operator's SSH files, in its own private /root. */
const OPERATOR_KEY = "/root/.ssh/id_lab";
const SSH_CONFIG = "/root/.ssh/lab_config";
const KNOWN_HOSTS = "/root/.ssh/lab_known_hosts";

export interface LabOptions {
  readonly stack: string;
  readonly windowSeconds: number;
  /** clawd-mesh:connectAttempts for the runs (the program's default when absent). */
  readonly connectAttempts?: number;
  /** What a node whose OS runs systemd boots (a new lab only): "plain" unless told. */
  readonly hosts?: HostInit;
  /** The fleet in place of the stack file's, from the start: hosts get its roles' software. */
  readonly fleet?: RawFleet;
  readonly log: (line: string) => void;
}

export interface EngineRun {
  readonly operation: string;
  readonly ok: boolean;
  readonly lines: readonly string[];
  /** `engine <op> <stack>: …` */
  readonly summary: string;
  readonly seconds: number;
}

/** What a node is, as the program's last run recorded it (its MeshNode's outputs). */
export interface NodeFacts {
  readonly wgPublicKey: string;
  readonly hostKey: string;
  readonly publicIpv4: string | null;
}

export class Lab {
  private constructor(
    private current: Site,
    readonly options: LabOptions,
  ) {}

  /** The lab as it stands: read again after each engine run, which may boot or delete hosts. */
  get site(): Site {
    return this.current;
  }

  /** A new lab for the stack: the internet, the operator, and what exists before the program. */
  static async create(options: LabOptions): Promise<Lab> {
    const site = Site.create(options.stack, options.hosts);
    const lab = new Lab(site, options);
    if (options.fleet) lab.useFleet(options.fleet);
    await lab.provide();
    return lab;
  }

  /** The lab that is up (a kept one, or one a test made). */
  static open(options: LabOptions): Lab {
    return new Lab(Site.open(), options);
  }

  /**
   * The stack's fleet as it is now: the stack file (an operator may have edited it since the
   * last run), or the fleet a test gave the lab in its place.
   */
  raw(): RawFleet {
    const override = loadOverride();
    if (override && !override.twinned) return override.fleet;
    return loadStackFleet(PROJECT_DIR, this.options.stack) as RawFleet;
  }

  /** The fleet the engine runs: the raw one with the lab's addresses and keys in place. */
  twin(): RawFleet {
    const override = loadOverride();
    if (override?.twinned) return override.fleet;
    return twinFleet(this.raw(), this.site.assignments);
  }

  /** A changed fleet for the next runs, as if the stack file had been edited (tests). */
  useFleet(fleet: RawFleet | undefined): void {
    saveOverride(fleet && { fleet, twinned: false });
  }

  /** A twin changed where only the lab decides (a wrong key on purpose): used as it is. */
  useTwin(twin: RawFleet): void {
    saveOverride({ fleet: twin, twinned: true });
  }

  /** The operator signs in with another key from now on (the stack's sshPrivateKey changed). */
  useOperatorKey(key: Assignments["operatorKey"]): void {
    saveAssignments({ ...loadAssignments(), operatorKey: key });
    this.current = Site.open();
  }

  fleet(): Fleet {
    return validateFleet(this.twin());
  }

  /** The policy and files as synth renders them for the twin (placeholders for cloud facts). */
  synthesis(): Synthesis {
    return synthesize(this.twin());
  }

  /**
   * Makes what the stack names and the lab does not have yet: existing hosts, peers' machines,
   * the stand-in vault binary. Before every `up`, as the stack file may have changed.
   */
  async provide(): Promise<void> {
    const raw = this.raw();
    await this.site.provide(raw, this.options.log);
    const vaults = (raw.nodes as RawFleet[]).some((n) => n.vault);
    if (vaults && !this.site.assignments.vault) {
      const v = vaultBinary("v1");
      this.site.assignments.vault = { path: v.path, sha256: v.sha256 };
      this.site.saveAssignments();
    }
  }

  /** One engine operation, in a process of its own as `pulumi up` is. */
  async engine(
    operation: "up" | "preview" | "refresh" | "destroy",
    extra: {
      firstContactOnly?: boolean;
      env?: NodeJS.ProcessEnv;
      agent?: boolean;
      /** `pulumi up --replace URN`, for each. */
      replace?: readonly string[];
    } = {},
  ): Promise<EngineRun> {
    if (operation === "up" || operation === "preview") await this.provide();
    const started = Date.now();
    const args = [ENGINE, operation, "--stack", this.options.stack];
    args.push("--window", String(this.options.windowSeconds));
    if (extra.firstContactOnly) args.push("--first-contact-only");
    if (this.options.connectAttempts) {
      args.push("--connect-attempts", String(this.options.connectAttempts));
    }
    if (extra.agent) args.push("--agent");
    for (const urn of extra.replace ?? []) args.push("--replace", urn);
    return new Promise((done) => {
      const child = spawn(TSX, args, { cwd: PROJECT_DIR, env: extra.env ?? process.env });
      const lines: string[] = [];
      let partial = "";
      const take = (chunk: Buffer) => {
        partial += chunk.toString();
        const complete = partial.split("\n");
        partial = complete.pop() ?? "";
        for (const line of complete) {
          lines.push(line);
          this.options.log(line);
        }
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      child.on("close", (status) => {
        if (partial) lines.push(partial);
        this.current = Site.open();
        const summary = [...lines].reverse().find((l) => l.startsWith("engine ")) ?? "";
        done({
          operation,
          ok: status === 0,
          lines,
          summary,
          seconds: (Date.now() - started) / 1000,
        });
      });
    });
  }

  /**
   * What an operator does to bring the stack up: one `up` — or, when this machine reaches the
   * nodes as a mesh peer, a first-contact-only `up`, their own peer brought up from its output,
   * then the `up` — and then the clients bring up theirs.
   */
  async converge(extra: { env?: NodeJS.ProcessEnv; agent?: boolean } = {}): Promise<EngineRun[]> {
    const runs: EngineRun[] = [];
    const peer = this.operatorPeer();
    if (peer) {
      const first = await this.engine("up", { ...extra, firstContactOnly: true });
      runs.push(first);
      if (!first.ok) return runs;
      this.startPeer(peer);
    }
    const up = await this.engine("up", extra);
    runs.push(up);
    if (up.ok) this.startPeers();
    return runs;
  }

  /** The peer the operator's machine is, when some node is managed over the mesh directly. */
  operatorPeer(): string | undefined {
    const fleet = this.fleet();
    const direct = fleet.nodes.some((n) => {
      const route = managementRoute(fleet, n);
      return route.via === "mesh" && !route.jump;
    });
    if (!direct) return undefined;
    return sourcesOf(fleet.ssh.allowFrom, fleet.nodes, fleet.peers).find((s) => s.kind === "peer")
      ?.name;
  }

  /**
   * An ssh-agent holding the operator's key, on a socket of its own (a new path each time, as
   * each login session's agent has), for runs with `agent: true`. It runs in the operator's
   * namespace, so taking the lab down stops it.
   */
  startAgent(): NodeJS.ProcessEnv {
    const dir = join(LAB_ROOT, "agent");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const socket = join(dir, `agent-${Date.now()}.sock`);
    const env = { ...process.env, SSH_AUTH_SOCK: socket };
    const operator = this.site.operator();
    operator.run("ssh-agent", ["-a", socket]);
    const key = join(dir, "key");
    writeFileSync(key, this.site.assignments.operatorKey.privateKey, { mode: 0o600 });
    try {
      must("ssh-add", ["-q", key], { env });
    } finally {
      rmSync(key, { force: true });
    }
    return env;
  }

  /** The stack's outputs after the last run, secrets revealed (the lab is the operator). */
  outputs(): Record<string, unknown> {
    const root = checkpointFile(this.options.stack)
      .load(this.options.stack)
      .resources.find((r) => r.type === "pulumi:pulumi:Stack");
    return reveal(root?.outputs ?? {}) as Record<string, unknown>;
  }

  /** Each node's keys and address, from its MeshNode's outputs in the checkpoint. */
  facts(): Map<string, NodeFacts> {
    const nodes = checkpointFile(this.options.stack)
      .load(this.options.stack)
      .resources.filter((r) => r.type === "clawd-mesh:mesh:MeshNode");
    return new Map(
      nodes.map((r) => [
        r.urn.split("::").pop() ?? "",
        reveal(r.outputs as Props) as unknown as NodeFacts,
      ]),
    );
  }

  /** The host a node runs on now: an existing host the lab made, or its current instance. */
  nodeHost(name: string): LabHost | undefined {
    return this.site.named(name, "existing") ?? this.site.named(name, "cloud");
  }

  peerHost(name: string): LabHost | undefined {
    return name === this.operatorPeer() ? this.site.operator() : this.site.named(name, "peer");
  }

  /** A peer brings up (or updates) its own WireGuard from the stack's `peers` output. */
  startPeer(name: string): void {
    const host = this.peerHost(name);
    const conf = (this.outputs().peers as Record<string, string> | undefined)?.[name];
    const key = this.site.assignments.peers[name]?.wg.privateKey;
    if (!host || !conf || !key) throw new Error(`peer ${name} has no host, configuration or key`);
    host.run("sh", ["-c", "mkdir -p /etc/wireguard && umask 077 && cat >/etc/wireguard/wg0.key"], {
      input: `${key}\n`,
    });
    host.run("sh", ["-c", "umask 077 && cat >/etc/wireguard/wg0.conf"], { input: conf });
    if (host.try("ip", ["link", "show", "wg0"]).status !== 0) {
      host.run("wg-quick", ["up", "wg0"]);
      return;
    }
    // Already up: new peers and keys without dropping the sessions that stay, as nodes do.
    host.run("bash", ["-c", "wg syncconf wg0 <(wg-quick strip wg0)"]);
    host.run("wg", ["set", "wg0", "private-key", "/etc/wireguard/wg0.key"]);
  }

  /** Every peer the lab gave a machine (and keys), named in the stack or not any more. */
  peerNames(): string[] {
    return Object.keys(this.site.assignments.peers);
  }

  /** The peers the stack names bring up their WireGuard (or update it). */
  startPeers(): void {
    const named = new Set(this.fleet().peers.map((p) => p.name));
    for (const name of this.peerNames()) {
      if (named.has(name) && this.peerHost(name)) this.startPeer(name);
    }
  }

  /** Runs a command over real SSH from the operator's machine, by the program's ssh_config. */
  ssh(node: string, command: string, input = "", timeoutMs = 60_000): Promise<Ran> {
    this.writeOperatorSsh();
    return this.site
      .operator()
      .runAsync("ssh", ["-F", SSH_CONFIG, node, command], { input, timeoutMs });
  }

  /** The program's ssh_config output, pinned to the host keys the program recorded. */
  private writeOperatorSsh(): void {
    const fleet = this.fleet();
    const facts = this.facts();
    const o = this.site.operator();
    const write = (inside: string, content: string) => {
      mkdirSync(dirname(o.path(inside)), { recursive: true });
      writeFileSync(o.path(inside), content, { mode: 0o600 });
    };
    write(OPERATOR_KEY, this.site.assignments.operatorKey.privateKey);
    write(
      SSH_CONFIG,
      // The defaults come first: ssh keeps the first value it reads for each option, so their
      // `StrictHostKeyChecking yes` holds against the output's `accept-new`, and the output is
      // used byte for byte as an operator would include it.
      [
        pinnedSshDefaults({
          port: fleet.ssh.port,
          identityFile: OPERATOR_KEY,
          knownHostsFile: KNOWN_HOSTS,
        }),
        String(this.outputs().sshConfig ?? ""),
      ].join("\n"),
    );
    write(
      KNOWN_HOSTS,
      renderKnownHosts(
        fleet.ssh.port,
        fleet.nodes.map((n) => ({
          addresses: [facts.get(n.name)?.publicIpv4 ?? "", n.meshIp].filter(Boolean),
          hostKey: facts.get(n.name)?.hostKey ?? "",
        })),
      ),
    );
    chmodSync(o.path("/root/.ssh"), 0o700);
  }

  labJson(): unknown {
    const facts = this.facts();
    const fleet = this.fleet();
    return {
      internet: { netns: INTERNET_NETNS },
      operator: { netns: OPERATOR_NETNS, publicIp: OPERATOR_IP },
      nodes: fleet.nodes.map((n) => ({
        name: n.name,
        netns: this.nodeHost(n.name)?.netns ?? null,
        publicIp: facts.get(n.name)?.publicIpv4 ?? null,
        meshIp: n.meshIp,
      })),
      peers: fleet.peers.map((p) => ({
        name: p.name,
        netns: this.peerHost(p.name)?.netns ?? null,
        meshIp: p.meshIp,
      })),
    };
  }
}
