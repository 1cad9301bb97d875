// The lab: a stack's hosts as network namespaces on a simulated internet, each running real
// sshd, wireguard-go and nftables, configured by the same push commands and scripts the
// Pulumi program uses, over real SSH — public first, then the cut-over to the mesh.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Fleet } from "../core/fleet/fleet";
import { synthesizeFleet, type Synthesis } from "../core/synth";
import { pushArchive, type BundleFiles, type SecretFiles } from "../core/render/pushArchive";
import { renderPeerConf } from "../core/render/peerConf";
import { pinnedSshDefaults, renderKnownHosts, strictSshConfig } from "../core/render/sshConfig";
import { applyOutcome, confirmFor, pushCommand, ROLLOUT_SCRIPT } from "../core/push/command";
import { parallel, type Ran } from "./exec";
import { LabHost } from "./host";
import { labFleet, type LabFleet, type LabNode } from "./labFleet";
import { handOver } from "./image";
import { INTERNET_IP, INTERNET_NETNS, Internet, OPERATOR_IP } from "./network";
import { LAB_ROOT, StateRecorder } from "./state";
import { rolloutOrder } from "../core/plan/roles";

const OPERATOR_KEY = "/root/.ssh/id_lab";
const SSH_CONFIG = "/root/.ssh/lab_config";
const KNOWN_HOSTS = "/root/.ssh/lab_known_hosts";

export interface LabOptions {
  readonly stack: string;
  readonly windowSeconds: number;
  readonly log: (line: string) => void;
}

export interface StepResult {
  readonly node: string;
  readonly step: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly message: string;
}

export class Lab {
  readonly lab: LabFleet;
  synthesis: Synthesis;
  readonly nodes = new Map<string, LabHost>();
  readonly peerHosts = new Map<string, LabHost>();
  readonly operator: LabHost;
  /** Where a NAT'd node's SSH is first reached: its router's forward. */
  readonly natAccess = new Map<string, string>();

  constructor(
    fleet: Fleet,
    readonly options: LabOptions,
  ) {
    const state = new StateRecorder({ stack: options.stack, netns: [], mounts: [], dirs: [] });
    this.lab = labFleet(fleet, OPERATOR_KEY);
    this.synthesis = synthesizeFleet(this.lab.fleet, this.lab.deployment);
    const internet = new Internet(state);

    this.operator = new LabHost("operator", "cml-operator", state);
    this.operator.plugInto(internet, OPERATOR_IP);
    for (const node of this.lab.nodes) {
      const host = new LabHost(node.spec.name, `cml-n${node.index}`, state);
      if (node.publicIp) host.plugInto(internet, node.publicIp);
      else {
        const nat = internet.natRouter(node.index, host.netns, fleet.ssh.port);
        this.natAccess.set(node.spec.name, nat.publicIp);
      }
      this.nodes.set(node.spec.name, host);
      this.freshHost(host, node);
      options.log(
        `  ${node.spec.name}: host up at ${node.publicIp ?? `NAT behind ${this.natAccess.get(node.spec.name)}`}`,
      );
    }
    for (const peer of this.lab.peers) {
      if (peer.spec.name === this.lab.operatorPeer) continue;
      const host = new LabHost(peer.spec.name, `cml-p${peer.index}`, state);
      host.plugInto(internet, peer.publicIp);
      this.peerHosts.set(peer.spec.name, host);
    }
    this.prepareOperator();
    this.startPeers();
  }

  /** A host as a provider hands it over: root may log in with the operator's key, nothing else. */
  private freshHost(host: LabHost, node: LabNode): void {
    handOver(host, {
      loginUser: "root",
      authorizedKeys: [`${this.lab.operatorKey.publicKey} lab-operator`],
      hostKey: node.hostKey,
      sshPort: this.lab.fleet.ssh.port,
    });
  }

  private prepareOperator(): void {
    const o = this.operator;
    const write = (inside: string, content: string) => {
      mkdirSync(dirname(o.path(inside)), { recursive: true });
      writeFileSync(o.path(inside), content, { mode: 0o600 });
    };
    write(OPERATOR_KEY, this.lab.operatorKey.privateKey);
    write(SSH_CONFIG, this.sshConfig());
    write(KNOWN_HOSTS, this.knownHosts());
    chmodSync(o.path("/root/.ssh"), 0o700);
  }

  /** The operator's ssh_config as synth renders it (lab addresses), pinned and unmultiplexed. */
  private sshConfig(): string {
    const f = this.lab.fleet;
    const bootstrap = this.lab.nodes.flatMap((n) => {
      const ip = n.publicIp ?? this.natAccess.get(n.spec.name);
      return [
        `Host ${n.spec.name}.bootstrap`,
        `    HostName ${ip}`,
        "    User root",
        `Host ${n.spec.name}.bootstrap-admin`,
        `    HostName ${ip}`,
        `    User ${f.ssh.adminUser}`,
        "",
      ];
    });
    return [
      strictSshConfig(this.synthesis.files.get("ssh_config") ?? ""),
      ...bootstrap,
      pinnedSshDefaults({
        port: f.ssh.port,
        identityFile: OPERATOR_KEY,
        knownHostsFile: KNOWN_HOSTS,
      }),
    ].join("\n");
  }

  private knownHosts(): string {
    return renderKnownHosts(
      this.lab.fleet.ssh.port,
      this.lab.nodes.map((n) => ({
        addresses: [n.publicIp, this.natAccess.get(n.spec.name), n.spec.meshIp].filter(
          (ip): ip is string => Boolean(ip),
        ),
        hostKey: n.hostKey.publicKey,
      })),
    );
  }

  /** Operators and clients bring up their own side of WireGuard. */
  private startPeers(): void {
    for (const peer of this.lab.peers) {
      const host =
        peer.spec.name === this.lab.operatorPeer
          ? this.operator
          : this.peerHosts.get(peer.spec.name);
      if (!host) continue;
      this.startPeer(host, peer.spec.name);
    }
  }

  startPeer(host: LabHost, name: string): void {
    const peer = this.lab.peers.find((p) => p.spec.name === name);
    const spec = this.lab.fleet.peers.find((p) => p.name === name);
    if (!peer || !spec) throw new Error(`no peer ${name}`);
    const conf = renderPeerConf(
      this.lab.fleet,
      this.synthesis.plan,
      this.lab.deployment,
      spec,
      peer.wg.privateKey,
    );
    host.run("sh", ["-c", "mkdir -p /etc/wireguard && umask 077 && cat >/etc/wireguard/wg0.conf"], {
      input: conf,
    });
    host.run("wg-quick", ["up", "wg0"]);
  }

  /** Runs a command over real SSH from the operator's machine; `alias` is an ssh_config Host. */
  ssh(alias: string, command: string, input = "", timeoutMs = 60_000): Promise<Ran> {
    return this.operator.runAsync("ssh", ["-F", SSH_CONFIG, alias, command], { input, timeoutMs });
  }

  /**
   * Like ssh, retrying while the connection could not be made (a host booting, a tunnel coming
   * up): at most `attempts` dials of ConnectTimeout 4 s, two seconds apart. Never once the
   * command may have started: a lost session is reported, not repeated — repeating an apply
   * could re-send a bad bundle after the node rolled it back.
   */
  async sshRetry(alias: string, command: string, input = "", attempts = 8): Promise<Ran> {
    let last: Ran | undefined;
    for (let i = 0; i < attempts; i++) {
      last = await this.ssh(alias, command, input);
      if (last.status !== 255 || !neverConnected(last)) return last;
      await new Promise((r) => setTimeout(r, 2000));
    }
    return last as Ran;
  }

  /** Plans a changed fleet with the lab's addresses and keys (e.g. a peer removed). */
  replan(change: (fleet: Fleet) => Fleet): void {
    this.synthesis = synthesizeFleet(change(this.lab.fleet), this.lab.deployment);
  }

  bundleOf(node: string): BundleFiles {
    const prefix = `nodes/${node}/`;
    return Object.fromEntries(
      [...this.synthesis.files]
        .filter(([p]) => p.startsWith(prefix))
        .map(([p, c]) => [p.slice(prefix.length), c]),
    );
  }

  secretsOf(node: string): SecretFiles {
    const n = this.lab.nodes.find((x) => x.spec.name === node);
    if (!n) throw new Error(`no node ${node}`);
    return {
      "wg0.key": `${n.wg.privateKey}\n`,
      ...(n.spec.k3s || n.spec.roles.includes("k3s-agent") ? { "k3s-token": "lab-token\n" } : {}),
      ...(n.spec.vault ? { "clavitor.env": `CLAVITOR_NODE=${node}\n` } : {}),
    };
  }

  /**
   * One push as the program makes it: apply over `alias`, then confirm over a fresh
   * connection on `confirmAlias`. Resolves when the node has kept the new configuration, or
   * reports the step and the node's own words when it did not.
   */
  async push(
    node: string,
    how: { bootstrap: boolean; alias: string; confirmAlias: string; bundle?: BundleFiles },
  ): Promise<StepResult> {
    const started = Date.now();
    const step = how.bootstrap ? "bootstrap" : "push";
    const archive = pushArchive(how.bundle ?? this.bundleOf(node), this.secretsOf(node));
    const command = pushCommand({
      bootstrap: how.bootstrap,
      windowSeconds: this.options.windowSeconds,
    });
    const applied = await this.sshRetry(how.alias, command, archive);
    const seconds = () => (Date.now() - started) / 1000;
    if (applied.status !== 0) {
      const armed = /clawd-mesh: armed/.test(applied.stdout);
      const message =
        applied.status === 255 && !armed
          ? `no answer over SSH, or the connection was lost during the switch (${reason(applied, "ssh")}); if the switch happened, the node restores its previous configuration by itself within ${this.options.windowSeconds} s`
          : reason(applied, "apply");
      return { node, step, ok: false, seconds: seconds(), message };
    }
    const outcome = applyOutcome(applied.stdout);
    const confirmed = await this.sshRetry(how.confirmAlias, confirmFor(outcome), "", 6);
    if (confirmed.status !== 0) {
      return {
        node,
        step: `${step} confirmation`,
        ok: false,
        seconds: seconds(),
        message: reason(confirmed, "confirm"),
      };
    }
    const message = outcome.kind === "armed" ? `confirmed ${outcome.token}` : "unchanged";
    return { node, step, ok: true, seconds: seconds(), message };
  }

  /** Every node: first contact on its public side, then the cut-over to the mesh, hub last. */
  async converge(): Promise<StepResult[]> {
    const log = this.options.log;
    const names = this.lab.nodes.map((n) => n.spec.name);
    const report = (r: StepResult) => {
      log(
        `  ${r.node}: ${r.step} ${r.ok ? "ok" : "FAILED"} in ${r.seconds.toFixed(1)} s${r.ok ? "" : `: ${r.message}`}`,
      );
      return r;
    };
    log("bootstrap (public address, the provider's initial access):");
    const first = await parallel(names, 4, async (name) =>
      report(
        await this.push(name, {
          bootstrap: true,
          alias: `${name}.bootstrap`,
          confirmAlias: `${name}.bootstrap-admin`,
        }),
      ),
    );
    if (first.some((r) => !r.ok)) return first;
    log("cut-over (over the management path; public SSH closes where the policy says):");
    const isHub = (n: string) =>
      this.lab.fleet.nodes.find((x) => x.name === n)?.roles.includes("hub");
    const cut = async (name: string) =>
      report(await this.push(name, { bootstrap: false, alias: name, confirmAlias: name }));
    const spokes = await parallel(
      names.filter((n) => !isHub(n)),
      4,
      cut,
    );
    const hubs = await parallel(
      names.filter((n) => isHub(n)),
      1,
      cut,
    );
    return [...first, ...spokes, ...hubs];
  }

  /**
   * A vault binary rollout from the operator's machine: the same push/rollout.sh the
   * program runs, through the lab's ssh_config, in seed 001's order (the hub last).
   */
  rollout(
    source: string,
    sha256: string,
    nodes?: readonly string[],
    healthSeconds = 15,
  ): Promise<Ran> {
    const order = nodes ?? rolloutOrder(this.lab.fleet).map((n) => n.name);
    const entries = order.map((name) => {
      const url = this.synthesis.plan.nodes.find((n) => n.name === name)?.vault?.healthUrl;
      if (!url) throw new Error(`${name} has no vault role`);
      return `${name}=${url}`;
    });
    // The operator's /tmp, /root and /home are its own, and the checkout may live in any of
    // them: the script goes in with a copy rather than by the checkout's path.
    const script = "/root/clawd-mesh-rollout.sh";
    copyFileSync(ROLLOUT_SCRIPT, this.operator.path(script));
    return this.operator.runAsync("sh", [script, SSH_CONFIG, source, sha256, ...entries], {
      env: { ...process.env, HEALTH_SECONDS: String(healthSeconds) },
      timeoutMs: (order.length * (healthSeconds + 30) + 30) * 1000,
    });
  }

  labJson(): unknown {
    return {
      internet: { netns: INTERNET_NETNS, publicIp: INTERNET_IP },
      operator: { netns: this.operator.netns, publicIp: OPERATOR_IP },
      nodes: this.lab.nodes.map((n) => ({
        name: n.spec.name,
        netns: this.nodes.get(n.spec.name)?.netns,
        publicIp: n.publicIp,
        meshIp: n.spec.meshIp,
      })),
      peers: this.lab.peers.map((p) => ({
        name: p.spec.name,
        netns:
          p.spec.name === this.lab.operatorPeer
            ? this.operator.netns
            : this.peerHosts.get(p.spec.name)?.netns,
        meshIp: p.spec.meshIp,
      })),
    };
  }

  static root(): string {
    return LAB_ROOT;
  }
}

/** ssh's words for a connection that was never made, directly or through a jump host. */
const NOT_CONNECTED =
  /connect to host .* port \d+: |Connection timed out during banner exchange|kex_exchange_identification|channel \d+: open failed|stdio forwarding failed|Connection closed by UNKNOWN/;
const LOST = /closed by remote host\.?$|Timeout, server .* not responding|client_loop|Broken pipe/m;

function neverConnected(r: Ran): boolean {
  return (
    NOT_CONNECTED.test(r.stderr) && !/clawd-mesh/.test(r.stdout + r.stderr) && !LOST.test(r.stderr)
  );
}

function reason(r: Ran, what: string): string {
  const text = `${r.stderr}\n${r.stdout}`.trim().split("\n").filter(Boolean);
  return `${what} exited ${r.timedOut ? "on timeout" : r.status}: ${text.slice(-3).join(" | ")}`;
}
