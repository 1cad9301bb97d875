// The program through the lab's engine, without namespaces: a stand-in cloud that keeps its
// provider firewalls and the accounts each host lets in, and a stand-in transport that dials
// as the command provider would — refused where the edge drops the operator's SSH or the
// account does not exist — and answers as the push scripts do. What the unit tier can show of
// a day-two `up`: which commands run, on which host, as whom, and whether they can connect.
import * as pulumi from "@pulumi/pulumi";
import { defineStack } from "../../components/stack";
import { runOperation, summaryLine, type RunResult } from "../../lab/engine/run";
import type { Operation } from "../../lab/engine/deployment";
import { ApiStore, type Cloud, type EdgeRule } from "../../lab/engine/providers/cloud";
import type { CommandTransport } from "../../lab/engine/providers/command";
import { commandPackage } from "../../lab/engine/providers/command";
import { randomPackage } from "../../lab/engine/providers/random";
import { vultrPackage } from "../../lab/engine/providers/vultr";
import { awsPackage } from "../../lab/engine/providers/aws";
import { cloudflarePackage } from "../../lab/engine/providers/cloudflare";
import { pulumiPackage } from "../../lab/engine/providers/pulumi";
import { emptyCheckpoint, type Checkpoint } from "../../lab/engine/state";
import { contains, parseCidr, parseIpv4 } from "../../core/net/ipv4";
import { KUBECONFIG, OPERATOR_PRIVATE_KEY } from "./mocks";
import {
  applyOutcome,
  confirmFor,
  INTERFACES_COMMAND,
  pushCommand,
  RETIRE_COMMAND_REMOTE,
} from "../../core/delivery/command";
import { retireMachine } from "../../operator/retire";
import { parseRetirePlan, RETIRE_COMMAND, RETIRE_PLAN_VARIABLE } from "../../core/delivery/retire";
import {
  parsePushPlan,
  PUSH_COMMAND,
  PUSH_PLAN_VARIABLE,
  type PushSecrets,
} from "../../core/delivery/plan";
import { loadBundle } from "../../core/delivery/bundleStore";
import { loadStackFleet } from "../../core/fleet/load";
import { PROJECT_DIR } from "./stacks";
import { archiveDigest, pushArchive } from "../../core/render/pushArchive";

/** Where the operator's machine dials from. */
export const OPERATOR_ADDRESS = "198.18.0.2";

/** A fleet as a test edits it: the stack file's raw spec. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawFleet = Record<string, any>;

/** A stack's fleet (its named nodes only, when given), first contact allowed from here. */
export function engineFleet(stack: string, names?: readonly string[]): RawFleet {
  const fleet = loadStackFleet(PROJECT_DIR, stack) as RawFleet;
  return {
    ...fleet,
    ssh: { ...fleet.ssh, firstContactFrom: [`${OPERATOR_ADDRESS}/32`] },
    ...(names && { nodes: fleet.nodes.filter((n: RawFleet) => names.includes(n.name)) }),
  };
}

interface Host {
  readonly id: string;
  /** The name the provider booted it with (its hostname). */
  readonly name?: string;
  ip: string;
  users: Set<string>;
  edge: readonly EdgeRule[] | undefined;
}

export interface Ran {
  readonly host: string;
  readonly user: string;
  readonly via?: string;
  readonly kind: "bootstrap" | "push" | "confirm" | "kubeconfig" | "retire" | "other";
}

export class StandInCloud implements Cloud {
  readonly api = new ApiStore();
  readonly hosts = new Map<string, Host>();
  private next = 1;

  async boot(spec: { name: string; image: { loginUser: string }; edge?: readonly EdgeRule[] }) {
    const id = `host-${this.next}`;
    const ip = `198.18.1.${this.next++}`;
    const users = new Set([spec.image.loginUser]);
    this.hosts.set(id, { id, name: spec.name, ip, users, edge: spec.edge });
    return { hostId: id, ipv4: ip };
  }
  async destroy(hostId: string) {
    this.hosts.delete(hostId);
  }
  async setEdge(hostId: string, rules: readonly EdgeRule[] | undefined) {
    const h = this.hosts.get(hostId);
    if (h) h.edge = rules;
  }
  async allocateAddress() {
    return `198.18.4.${this.next++}`;
  }
  async releaseAddress() {}
  async assignAddress(hostId: string, ip: string | undefined) {
    const h = this.hosts.get(hostId);
    if (h && ip) h.ip = ip;
  }
  async publishRecords() {}

  /** An existing host, as its owner left it: the admin account with the operator's key. */
  existing(ip: string, admin: string): void {
    const id = `existing-${ip}`;
    this.hosts.set(id, { id, ip, users: new Set([admin]), edge: undefined });
  }

  byIp(ip: string): Host | undefined {
    return [...this.hosts.values()].find((h) => h.ip === ip);
  }
}

/** Would the edge in front of `host` let the operator's SSH through? */
function admits(host: Host, port: number): boolean {
  if (!host.edge) return true;
  const from = parseIpv4(OPERATOR_ADDRESS) as number;
  return host.edge.some((r) => {
    const cidr = parseCidr(r.cidr);
    return (
      r.protocol === "tcp" &&
      (!r.ports || (port >= r.ports[0] && port <= r.ports[1])) &&
      cidr !== undefined &&
      contains(cidr, from)
    );
  });
}

export class StandInTransport implements CommandTransport {
  readonly ran: Ran[] = [];
  private pushes = 0;
  /** Machines (host ids, or mesh addresses) that were asked to leave the mesh. */
  private readonly retired = new Set<string>();
  /** What each retire said (cli/retire.ts writes it to stderr). */
  readonly said: string[] = [];
  /** How a push finds its bundle: another version's program checks it by its own scripts. */
  load: typeof loadBundle = loadBundle;
  constructor(
    private readonly cloud: StandInCloud,
    private readonly admin: string,
  ) {}

  async remote(r: { connection: Record<string, unknown>; command: string; stdin?: string }) {
    const c = r.connection as {
      host: string;
      port: number;
      user: string;
      proxy?: { host: string; port: number; user: string };
    };
    const first = c.proxy ?? c;
    const target = this.cloud.byIp(first.host);
    // The mesh is the lab's business: an address no host has publicly is taken as reachable.
    const mesh = !target && !first.host.startsWith("198.18.");
    // The provider retries the dial, then gives up (remote/connection.go dialWithRetry).
    if (!mesh && (!target || !admits(target, first.port))) {
      throw new Error(
        `after 10 failed attempts: dial tcp ${first.host}:${first.port}: i/o timeout`,
      );
    }
    if (target && !target.users.has(first.user)) {
      throw new Error(
        `after 10 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain`,
      );
    }
    // Which machine: a host by its id, a mesh address by itself (the lab's business).
    const machine = target?.id ?? c.host;
    if (r.command === INTERFACES_COMMAND) {
      const wg = this.retired.has(machine) ? "" : "\n3: wg0: <POINTOPOINT,UP> mtu 1420";
      return { stdout: `1: lo: <LOOPBACK,UP> mtu 65536${wg}`, stderr: "" };
    }
    if (r.command === RETIRE_COMMAND_REMOTE) this.retired.add(machine);
    const kind: Ran["kind"] = / confirm /.test(r.command)
      ? "confirm"
      : / kubeconfig/.test(r.command)
        ? "kubeconfig"
        : r.command === RETIRE_COMMAND_REMOTE
          ? "retire"
          : /apply --bootstrap/.test(r.command)
            ? "bootstrap"
            : /apply/.test(r.command)
              ? "push"
              : "other";
    this.ran.push({ host: c.host, user: c.user, ...(c.proxy && { via: c.proxy.host }), kind });
    if (kind === "bootstrap" || kind === "push") {
      // The bundle creates the admin account; sshd lets nobody else in afterwards.
      if (target && !c.proxy) target.users = new Set([this.admin]);
      const n = ++this.pushes;
      return { stdout: `clawd-mesh: armed 1795430000-${n} 1795430000`, stderr: "" };
    }
    if (kind === "confirm")
      return {
        stdout: `clawd-mesh: confirmed ${/confirm (\S+)/.exec(r.command)?.[1] ?? ""}`,
        stderr: "",
      };
    if (kind === "kubeconfig") return { stdout: KUBECONFIG.trimEnd(), stderr: "" };
    return { stdout: "", stderr: "" };
  }

  /**
   * A push (cli/push.ts) is apply then confirm, each its own dial; a retire (cli/retire.ts) asks
   * the machine over its route; anything else runs here.
   */
  async local(r: { command: string; environment?: Record<string, string>; stdin?: string }) {
    if (r.command === RETIRE_COMMAND) {
      // cli/retire.ts's own decisions, over this transport, with short waits.
      const plan = parseRetirePlan(r.environment?.[RETIRE_PLAN_VARIABLE]);
      const said: string[] = [];
      const code = await retireMachine(plan, {
        ssh: {
          remote: (x) => this.remote({ ...x, connection: { ...x.connection } }),
          local: (x) => this.local(x),
        },
        say: (line) => said.push(`${plan.node}: ${line}`),
        limits: { askMs: 1000, goneMs: 1000, checkMs: 100, pauseMs: 1 },
      });
      this.said.push(...said);
      if (code !== 0) throw new Error(said.join("\n"));
      return { stdout: "", stderr: said.join("\n") };
    }
    if (r.command !== PUSH_COMMAND) {
      this.ran.push({ host: "localhost", user: "operator", kind: "other" });
      return { stdout: "", stderr: "" };
    }
    const plan = parsePushPlan(r.environment?.[PUSH_PLAN_VARIABLE]);
    const bootstrap = plan.mode === "bootstrap";
    const applied = await this.remote({
      connection: { ...plan.apply },
      command: pushCommand({
        bootstrap,
        windowSeconds: plan.windowSeconds,
        // The archive cli/push.ts would send: the stored bundle (it must be there) and stdin's files.
        archiveSha256: archiveDigest(
          pushArchive(
            this.load(plan.bundle),
            (JSON.parse(r.stdin ?? "{}") as Partial<PushSecrets>).files ?? {},
          ),
        ),
      }),
    });
    const outcome = applyOutcome(applied.stdout);
    await this.remote({ connection: { ...plan.confirm }, command: confirmFor(outcome) });
    return {
      stdout:
        outcome.kind === "armed"
          ? `clawd-mesh: confirmed ${outcome.token}`
          : "clawd-mesh: unchanged",
      stderr: "",
    };
  }
}

export interface EngineWorldOptions {
  readonly fleet: unknown;
  readonly config?: Record<string, string>;
  /** The ssh-agent socket the program finds in SSH_AUTH_SOCK, when no key is configured. */
  readonly agent?: boolean;
  /** The program: this tree's, or another version's (an `up` after an upgrade). */
  readonly define?: typeof defineStack;
}

export class EngineWorld {
  readonly cloud = new StandInCloud();
  readonly transport: StandInTransport;
  checkpoint: Checkpoint = emptyCheckpoint("lab");
  lines: string[] = [];

  constructor(private o: EngineWorldOptions) {
    const fleet = o.fleet as {
      ssh: { adminUser: string };
      nodes: { provider: string; publicIp?: string | null }[];
    };
    this.transport = new StandInTransport(this.cloud, fleet.ssh.adminUser);
    for (const n of fleet.nodes) {
      if (n.provider === "existing" && n.publicIp)
        this.cloud.existing(n.publicIp, fleet.ssh.adminUser);
    }
  }

  setFleet(fleet: unknown): void {
    this.o = { ...this.o, fleet };
  }

  setProgram(define: typeof defineStack): void {
    this.o = { ...this.o, define };
  }

  async run(
    operation: Operation = "up",
    socket = "/tmp/ssh-agent.1/agent.1",
  ): Promise<RunResult & { summary: string; ran: Ran[] }> {
    const before = this.transport.ran.length;
    const saved = process.env.SSH_AUTH_SOCK;
    if (this.o.agent) process.env.SSH_AUTH_SOCK = socket;
    try {
      this.lines = [];
      const result = await runOperation({
        operation,
        project: "clawd-mesh",
        stack: "lab",
        program: () => {
          const s = (this.o.define ?? defineStack)(new pulumi.Config("clawd-mesh"));
          return {
            nodes: s.nodes,
            hub: s.hub,
            sshConfig: s.sshConfig,
            ollama: s.ollama,
            k3s: s.k3s,
          };
        },
        config: {
          "clawd-mesh:fleet": JSON.stringify(this.o.fleet),
          ...(!this.o.agent && { "clawd-mesh:sshPrivateKey": OPERATOR_PRIVATE_KEY }),
          ...this.o.config,
        },
        secretKeys: ["clawd-mesh:sshPrivateKey", "clawd-mesh:kumaPushUrls"],
        old: this.checkpoint,
        packages: {
          random: randomPackage,
          command: commandPackage(this.transport),
          vultr: vultrPackage(this.cloud),
          aws: awsPackage(this.cloud),
          cloudflare: cloudflarePackage(this.cloud),
          pulumi: pulumiPackage(() => undefined),
        },
        log: (line) => this.lines.push(line),
        save: () => undefined,
      });
      if (operation !== "preview") this.checkpoint = result.checkpoint;
      const ran = this.transport.ran.slice(before);
      return { ...result, ran, summary: summaryLine(operation, "lab", result.steps, ran.length) };
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  }
}
