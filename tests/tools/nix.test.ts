// The NixOS side, with the real Nix evaluator but without nixpkgs (CI cannot have it): every
// synthesized .nix parses; configuration.nix evaluates in place; and lib.nix, which turns
// node.json into NixOS option values, means what the generic renderings of the same node
// mean — the same firewall facts, the same effective sshd (both read by sshd -T), the same
// WireGuard peers and kernel settings.
import { METADATA_ADDRESS } from "../../core/render/nftables";
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { STACKS, stackSynthesis, writeFiles, type StackName } from "../helpers/stacks";
import { requireTools, run, runOk, tempDir } from "../helpers/run";
import { facts, parseNft } from "../helpers/nftParse";
import { effectiveSshd } from "../helpers/sshd";
import { parseWgConf } from "../helpers/wg";
import { parse } from "yaml";
import { sshValue } from "../../core/render/sshd";
import { NIX_DIR } from "../../core/render/nixos";
import { ICMPV6_ECHO_DROP } from "../../core/render/nftables";
import type { NodeModel } from "../../core/plan/model";
import { BOOT_ROLLBACK } from "../../core/plan/files";
import { renderBootRollbackUnit } from "../../core/render/bootRollback";

requireTools("nix-instantiate", "nft", "sshd", "ssh-keygen");
const tmp = tempDir("nix");
const hostKey = join(tmp.path, "host_key");
const stackDir = (stack: StackName) => join(tmp.path, stack);

interface NixValues {
  firewall: {
    enable: boolean;
    allowPing: boolean;
    allowedTCPPorts: number[];
    allowedUDPPorts: number[];
    trustedInterfaces: string[];
    filterForward: boolean;
    extraInputRules: string;
    extraForwardRules: string;
  };
  wireguard: Record<
    string,
    {
      ips: string[];
      listenPort: number | null;
      privateKeyFile: string;
      peers: {
        name: string;
        publicKey: string;
        allowedIPs: string[];
        endpoint?: string;
        persistentKeepalive?: number;
      }[];
    }
  >;
  openssh: {
    ports: number[];
    listenAddresses: { addr: string; port: number }[];
    hostKeys: { path: string; type: string }[];
    authorizedKeysInHomedir: boolean;
    openFirewall: boolean;
    settings: Record<string, string | number | boolean | string[]>;
  };
  icmpv6: { family: string; content: string };
  metadata: { family: string; content: string };
  sysctl: Record<string, number>;
  config: { node: string; imports: string[] };
  ollama: { host: string; port: number; loadModels: string[] } | null;
  vault: {
    service: Record<string, string>;
    integrity: Record<string, string>;
    timer: { OnCalendar: string; Persistent: boolean };
  } | null;
  k3s: { role: string; tokenFile: string; serverAddr: string; extraFlags: string[] } | null;
  fail2ban: { port: string; maxretry: number; findtime: number; bantime: number } | null;
  nixpkgs: unknown;
  bootRollback: Record<
    string,
    {
      description: string;
      unitConfig: { DefaultDependencies: boolean; ConditionPathExists: string };
      after: string[];
      before: string[];
      wantedBy: string[];
      serviceConfig: { Type: string; ExecStart: string };
    }
  >;
}

/** Where the pinned tree would sit in the store (nixpkgs.nix passes fetchTarball's result). */
const PINNED_TREE = "/nix/store/00000000000000000000000000000000-source";

/** The rows of one section of a rendered unit file. */
function section(unit: string, name: string): Record<string, string> {
  const body = unit.split(`[${name}]\n`)[1]?.split("\n\n")[0] ?? "";
  return Object.fromEntries(
    body
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

const values = new Map<string, Map<string, NixValues>>();

function nixosNodes(stack: StackName): NodeModel[] {
  return stackSynthesis(stack).plan.nodes.filter((n) => n.os === "nixos");
}

beforeAll(() => {
  mkdirSync("/run/sshd", { recursive: true });
  runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  for (const stack of STACKS) {
    writeFiles(stackSynthesis(stack).files, stackDir(stack));
    const names = nixosNodes(stack).map((n) => n.name);
    if (names.length === 0) continue;
    // One evaluation per stack: for each node, what lib.nix makes of its node.json, and what
    // its configuration.nix does when evaluated where synth put it.
    const expr = `
      let
        dir = ${JSON.stringify(join(stackDir(stack), "nodes"))};
        one = name:
          let
            here = dir + "/" + name;
            lib = import (here + "/clawd-mesh/lib.nix");
            node = builtins.fromJSON (builtins.readFile (here + "/node.json"));
            conf = import (here + "/configuration.nix") { };
          in {
            inherit name;
            value = {
              firewall = lib.firewall node;
              wireguard = lib.wireguard node;
              openssh = lib.openssh node;
              sysctl = node.sysctl;
              icmpv6 = lib.icmpv6EchoTable node;
              metadata = lib.metadataTable node;
              config = { node = conf.clawdMesh.node.name; imports = map toString conf.imports; };
              ollama = if node.ollama != null then lib.ollama node else null;
              vault = if node.vault != null then lib.vault node else null;
              k3s = if node.k3s != null then lib.k3s node else null;
              fail2ban = if node.hardening.fail2ban != null then lib.fail2ban node else null;
              nixpkgs = lib.nixpkgs node.nixos.nixpkgs ${JSON.stringify(PINNED_TREE)};
              # The module alone, with packages named by stand-in paths.
              bootRollback =
                let
                  pkgs = builtins.listToAttrs (map (p: { name = p; value = "/pkgs/" + p; })
                    [ "bash" "util-linux" "gnutar" "gawk" "diffutils" ]);
                  module = import (here + "/clawd-mesh/boot-rollback.nix");
                in (module { config.clawdMesh.node = node; inherit pkgs; }).systemd.services;
            };
          };
      in builtins.listToAttrs (map one ${JSON.stringify(names).replace(/,/g, " ")})`;
    const out = runOk("nix-instantiate", [
      "--eval",
      "--strict",
      "--json",
      "--readonly-mode",
      "-E",
      expr,
    ]);
    values.set(stack, new Map(Object.entries(JSON.parse(out) as Record<string, NixValues>)));
  }
});
afterAll(() => tmp.remove());

test("every .nix file in nix/ parses", () => {
  const files = [
    join(NIX_DIR, "configuration.nix"),
    ...readdirSync(join(NIX_DIR, "clawd-mesh"))
      .filter((f) => f.endsWith(".nix"))
      .map((f) => join(NIX_DIR, "clawd-mesh", f)),
  ];
  expect(files.length).toBeGreaterThan(8);
  runOk("nix-instantiate", ["--parse", ...files]);
});

const nixosCases = STACKS.flatMap((stack) =>
  nixosNodes(stack).map((n): [StackName, string] => [stack, n.name]),
);

describe.each(nixosCases)("%s/%s on NixOS", (stack, name) => {
  const node = () => nixosNodes(stack).find((n) => n.name === name)!;
  const nix = () => values.get(stack)!.get(name)!;
  const generic = (file: string) => stackSynthesis(stack).files.get(`nodes/${name}/${file}`) ?? "";
  const nodeDir = () => join(stackDir(stack), "nodes", name);

  test("its synthesized .nix files parse", () => {
    const dir = nodeDir();
    const files = [
      join(dir, "configuration.nix"),
      ...readdirSync(join(dir, "clawd-mesh"))
        .filter((f) => f.endsWith(".nix"))
        .map((f) => join(dir, "clawd-mesh", f)),
    ];
    runOk("nix-instantiate", ["--parse", ...files]);
  });

  test("configuration.nix reads its own node.json in place", () => {
    expect(nix().config.node).toBe(name);
    const imports = nix().config.imports.map((p) => p.slice(nodeDir().length + 1));
    expect(imports).toEqual([
      "clawd-mesh",
      ...(node().provider === "aws" ? ["clawd-mesh/aws.nix"] : []),
    ]);
  });

  test("the boot rollback runs what other hosts' unit runs, before the firewall, WireGuard and sshd", () => {
    const generic = renderBootRollbackUnit(node());
    const ours = { unit: section(generic, "Unit"), service: section(generic, "Service") };
    const theirs = nix().bootRollback[BOOT_ROLLBACK];
    expect(Object.keys(nix().bootRollback)).toEqual([BOOT_ROLLBACK]);
    expect(theirs?.unitConfig).toEqual({
      DefaultDependencies: false,
      ConditionPathExists: ours.unit.ConditionPathExists,
    });
    expect(theirs?.description).toBe(ours.unit.Description);
    expect(theirs?.after).toEqual(ours.unit.After?.split(" "));
    expect(theirs?.before).toEqual(
      expect.arrayContaining([
        "sysinit.target",
        "nftables.service",
        `wireguard-${node().wireguard.interface}.service`,
        "sshd.service",
      ]),
    );
    expect(theirs?.wantedBy).toEqual([section(generic, "Install").WantedBy]);
    expect(theirs?.serviceConfig).toEqual({
      Type: ours.service.Type,
      ExecStart: `/pkgs/bash${ours.service.ExecStart}`,
    });
  });

  test("the firewall allows exactly what the generic nftables.conf allows", () => {
    const fw = nix().firewall;
    const ours = parseNft(generic("nftables.conf"));
    expect(fw.enable).toBe(true);
    expect(fw.allowPing).toBe(false);
    expect(fw.filterForward).toBe(node().wireguard.forwarding);
    expect(fw.trustedInterfaces).toEqual(node().firewall.trustedInterfaces);
    const nixPublic = new Set([
      ...fw.allowedTCPPorts.map((p) => `tcp|${p}`),
      ...fw.allowedUDPPorts.map((p) => `udp|${p}`),
    ]);
    expect(nixPublic).toEqual(ours.public);
    const input = fw.extraInputRules.split("\n").filter(Boolean);
    // Mesh rules must be bound to the WireGuard interface; break-glass ones are not.
    const onMesh = input.filter((l) => l.startsWith(`iifname "${node().wireguard.interface}" `));
    const elsewhere = input.filter((l) => !onMesh.includes(l));
    expect(facts(onMesh, (s) => `${s}|`)).toEqual(ours.mesh);
    expect(facts(elsewhere, (s) => `${s}|`)).toEqual(ours.breakGlass);
    const forward = fw.extraForwardRules.split("\n").filter(Boolean);
    expect(facts(forward, (s, d) => `${s}>${d}|`)).toEqual(ours.forward);
  });

  test("IPv6 echo requests are dropped ahead of NixOS's ICMPv6 accept, as nftables.conf drops them", () => {
    const table = nix().icmpv6;
    expect(table.family).toBe("inet");
    const lines = table.content.split("\n").map((l) => l.trim());
    // Ahead of NixOS's own input chain (priority filter), for all but the trusted interfaces.
    expect(lines).toContain("type filter hook input priority filter - 1; policy accept;");
    const trusted = ["lo", ...node().firewall.trustedInterfaces].map((i) => `"${i}"`);
    const set = trusted.length === 1 ? trusted[0] : `{ ${trusted.join(", ")} }`;
    expect(lines).toContain(`iifname != ${set} ${ICMPV6_ECHO_DROP}`);
    expect(generic("nftables.conf")).toContain(`\t\t${ICMPV6_ECHO_DROP}\n`);
    const file = join(tmp.path, `${stack}-${name}-icmpv6.nft`);
    writeFileSync(file, `table inet clawd_mesh_icmpv6 {\n${table.content}}\n`);
    const r = run("nft", ["-c", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("a cloud host's metadata service answers root alone, as nftables.conf has it", () => {
    const drop = `ip daddr ${METADATA_ADDRESS} meta skuid != 0 drop`;
    const cloud = node().provider !== "existing";
    // network.nix adds the table where node.json says so, as the generic file has the chain.
    expect(JSON.parse(generic("node.json")).firewall.metadataRootOnly).toBe(cloud);
    expect(generic("nftables.conf").includes(`\t\t${drop}\n`)).toBe(cloud);
    const table = nix().metadata;
    expect(table.content.split("\n").map((l) => l.trim())).toContain(drop);
    const file = join(tmp.path, `${stack}-${name}-metadata.nft`);
    writeFileSync(file, `table inet clawd_mesh_metadata {\n${table.content}}\n`);
    const r = run("nft", ["-c", "-f", file]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
  });

  test("the first-contact module evaluates where the push installs it, beside clawd-mesh/", () => {
    // apply.sh --bootstrap copies clawd-mesh/bootstrap.nix to /etc/nixos/bootstrap.nix.
    const dir = join(tmp.path, `${stack}-${name}-bootstrap`);
    cpSync(nodeDir(), dir, { recursive: true });
    cpSync(join(dir, "clawd-mesh", "bootstrap.nix"), join(dir, "bootstrap.nix"));
    const expr = `
      let
        node = builtins.fromJSON (builtins.readFile ${join(dir, "node.json")});
        conf = import ${join(dir, "configuration.nix")} { };
        lib = { mkForce = x: x; mkIf = cond: x: if cond then x else null; };
        m = import ${join(dir, "bootstrap.nix")} { config.clawdMesh.node = node; inherit lib; };
      in {
        imports = map toString conf.imports;
        listen = m.services.openssh.listenAddresses;
        rules = m.networking.firewall.extraInputRules;
        open = m.networking.firewall.allowedTCPPorts;
      }`;
    const out = JSON.parse(
      runOk("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr]),
    ) as { imports: string[]; listen: unknown[]; rules: string | null; open: number[] | null };
    expect(out.imports).toContain(join(dir, "bootstrap.nix"));
    expect(out.listen).toEqual([]);
    const first = node().firewall.firstContact;
    if (first.cidrs.length > 0) {
      expect(out.open).toBeNull();
      expect(facts([out.rules!.replace(/ comment ".*"$/, "")], (s) => `${s}|`)).toEqual(
        new Set(first.cidrs.flatMap((c) => first.tcpPorts.map((p) => `${c}|tcp|${p}`))),
      );
    } else {
      expect(out.rules).toBeNull();
      expect(out.open).toEqual(first.tcpPorts);
    }
  });

  test("nft accepts the rules the Nix side writes", () => {
    const fw = nix().firewall;
    const file = join(tmp.path, `${stack}-${name}-nixos.nft`);
    writeFileSync(
      file,
      [
        "table inet nixos_side {",
        "  chain input_allow {",
        fw.extraInputRules,
        "  }",
        "  chain forward_allow {",
        fw.extraForwardRules,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const r = run("nft", ["-c", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("sshd reads the NixOS settings the same way as the generic sshd_config", () => {
    const o = nix().openssh;
    expect(o.openFirewall).toBe(false);
    expect(o.authorizedKeysInHomedir).toBe(false);
    expect(o.hostKeys).toEqual([{ path: node().ssh.hostKey, type: "ed25519" }]);
    // Rendered the way NixOS's openssh module writes sshd_config from these values.
    const nixosConfig = [
      ...o.ports.map((p) => `Port ${p}`),
      ...o.listenAddresses.map((a) => `ListenAddress ${a.addr}:${a.port}`),
      `HostKey ${hostKey}`,
      "AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u",
      ...Object.entries(o.settings).map(([k, v]) => `${k} ${sshValue(k, v)}`),
      "",
    ].join("\n");
    const nixFile = join(tmp.path, `${stack}-${name}-nixos.sshd_config`);
    writeFileSync(nixFile, nixosConfig);
    const genericFile = join(tmp.path, `${stack}-${name}.sshd_config`);
    writeFileSync(
      genericFile,
      generic("sshd_config").replace(/^HostKey .*$/m, `HostKey ${hostKey}`),
    );
    const a = effectiveSshd(nixFile, hostKey);
    const b = effectiveSshd(genericFile, hostKey);
    const keys = [...node().ssh.settings.map(([k]) => k.toLowerCase()), "port", "listenaddress"];
    for (const key of keys) expect([key, a.get(key)]).toEqual([key, b.get(key)]);
  });

  test("WireGuard holds the same interface and peers as wg0.conf", () => {
    const iface = nix().wireguard[node().wireguard.interface]!;
    const text = generic("wg0.conf");
    const conf = parseWgConf(text);
    expect(iface.ips).toEqual([/^Address = (.*)$/m.exec(text)?.[1]]);
    expect(iface.listenPort).toBe(conf.listenPort);
    expect(text).toContain(`PostUp = wg set %i private-key ${iface.privateKeyFile}`);
    const nixPeers = new Map(
      iface.peers.map((p) => [
        p.publicKey,
        {
          allowedIps: p.allowedIPs,
          ...(p.endpoint && { endpoint: p.endpoint }),
          ...(p.persistentKeepalive && { keepalive: p.persistentKeepalive }),
        },
      ]),
    );
    expect(nixPeers).toEqual(conf.peers);
  });

  test("the roles' NixOS values mean what the generic files say", () => {
    const n = nix();
    const model = node();
    if (model.ollama) {
      const dropIn = generic("systemd/ollama.service.d/clawd-mesh.conf");
      expect(section(dropIn, "Service").Environment).toBe(
        `OLLAMA_HOST=${n.ollama?.host}:${n.ollama?.port}`,
      );
      expect(n.ollama?.loadModels).toEqual(generic("libexec/ollama-models.txt").trim().split("\n"));
    } else expect(n.ollama).toBeNull();
    if (model.vault) {
      expect(n.vault?.service).toEqual(section(generic("systemd/clavitor.service"), "Service"));
      expect(n.vault?.integrity).toEqual(
        section(generic("systemd/clavitor-integrity.service"), "Service"),
      );
      expect(n.vault?.timer.OnCalendar).toBe(
        section(generic("systemd/clavitor-integrity.timer"), "Timer").OnCalendar,
      );
    } else expect(n.vault).toBeNull();
    if (model.k3s) {
      const config = parse(generic("k3s/config.yaml")) as Record<string, string | string[]>;
      const flags = Object.entries(config)
        .filter(([k]) => k !== "token-file" && k !== "server")
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `--${k}=${x}`));
      expect([...(n.k3s?.extraFlags ?? [])].sort()).toEqual(flags.sort());
      expect(n.k3s?.tokenFile).toBe(config["token-file"]);
      expect(n.k3s?.serverAddr).toBe((config.server as string | undefined) ?? "");
    } else expect(n.k3s).toBeNull();
    if (model.hardening.fail2ban) {
      const jail = Object.fromEntries(
        generic("fail2ban/clawd-mesh-sshd.local")
          .split("\n")
          .filter((l) => l.includes(" = "))
          .map((l) => l.split(" = ")),
      );
      expect(n.fail2ban).toEqual({
        enabled: true,
        port: jail.port,
        maxretry: Number(jail.maxretry),
        findtime: Number(jail.findtime),
        bantime: Number(jail.bantime),
      });
    } else expect(n.fail2ban).toBeNull();
  });

  test("nix keeps to the stack's pin: no channel; NIX_PATH and the registry name the tree", () => {
    // Release-dependent names, as NixOS 26.05 has them: nix.channel.enable (since 23.05),
    // nix.nixPath, nix.registry.<name>.to.
    expect(nix().nixpkgs).toEqual({
      channel: { enable: false },
      nixPath: [`nixpkgs=${PINNED_TREE}`, "nixos-config=/etc/nixos/configuration.nix"],
      registry: {
        nixpkgs: {
          to: { type: "path", path: PINNED_TREE, narHash: node().nixos?.nixpkgs.narHash },
        },
      },
    });
  });

  test("kernel settings match sysctl.conf", () => {
    const lines = generic("sysctl.conf")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(" = "));
    expect(nix().sysctl).toEqual(Object.fromEntries(lines.map(([k, v]) => [k, Number(v)])));
  });
});
