// Every stack file under Pulumi's mocks: the resources it declares, where they sit in the
// tree, the inputs that matter, and which values stay secret.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { planFirewall } from "../../core/plan/firewall";
import { join } from "node:path";
import { parse } from "yaml";
import { AMI_IDS, calls, isSecretInput, unwrap, valueOf } from "../helpers/mocks";
import { run as run_ } from "../helpers/run";
import { byType, named, runStack, T, type StackRun } from "../helpers/program";
import { PROJECT_DIR, stackSynthesis, type StackName } from "../helpers/stacks";
import { parsePushPlan, PUSH_PLAN_VARIABLE } from "../../core/delivery/plan";
import {
  parseRetirePlan,
  RETIRE_COMMAND,
  RETIRE_DIAL,
  RETIRE_PLAN_VARIABLE,
} from "../../core/delivery/retire";

const runs = new Map<string, StackRun>();
const STACK_NAMES = ["prod", "clawd", "clavitor", "openclaw", "ollama-home"] as const;

beforeAll(async () => {
  for (const stack of STACK_NAMES) runs.set(stack, await runStack(stack));
});
const run = (stack: string) => runs.get(stack) as StackRun;

// Resource counts per stack, worked out from the stack files (see the note on each line).
const EXPECTED: Record<string, Record<string, number>> = {
  // 20 nodes: 16 vault (13 Vultr, 3 Hostkey), clawd/brutus/plutos existing, openclaw on AWS.
  prod: {
    [T.fleet]: 1, [T.node]: 20, [T.hub]: 1, [T.ollama]: 3, [T.vault]: 16, [T.k3s]: 1,
    [T.rollout]: 1, // one vault binary, rolled out node by node
    [T.bytes]: 34, // 20 WireGuard keys + 14 host keys for cloud hosts
    [T.password]: 1, // the k3s join token
    // 20 nodes x (first contact, push), each confirmed in itself, + the vault rollout, + a
    // retire for each of the 14 created machines
    [T.localCommand]: 55,
    [T.command]: 1, // the kubeconfig read
    [T.record]: 33, // 16 A for the vault names, 13 AAAA (Vultr has IPv6), 4 ingress A
    [T.vultrInstance]: 13, [T.vultrKey]: 1,
    // The 13 open the same ports: one group, (80, 443) x (v4, v6) + first-contact SSH, v4
    [T.vultrGroup]: 1, [T.vultrRule]: 5,
    [T.awsProvider]: 1, [T.awsInstance]: 1, [T.awsGroup]: 1, [T.awsEip]: 1, [T.awsKeyPair]: 1,
  },
  // nexus sits behind NAT with no first-contact address: 3 x 2 + 1 pushes.
  clawd: { [T.fleet]: 1, [T.node]: 4, [T.ollama]: 3, [T.bytes]: 4, [T.localCommand]: 7 },
  // 16 x (first contact, push) + the rollout + 13 retires (the Vultr machines)
  clavitor: {
    [T.fleet]: 1, [T.node]: 16, [T.hub]: 1, [T.vault]: 16, [T.rollout]: 1, [T.localCommand]: 46,
    [T.bytes]: 29, [T.record]: 29,
    [T.vultrInstance]: 13, [T.vultrGroup]: 1, [T.vultrKey]: 1, [T.vultrRule]: 5,
  },
  // first contact, push, and the retire of its EC2 machine
  openclaw: {
    [T.fleet]: 1, [T.node]: 1, [T.k3s]: 1, [T.bytes]: 2, [T.password]: 1, [T.localCommand]: 3,
    [T.command]: 1,
    [T.record]: 4, [T.awsProvider]: 1, [T.awsInstance]: 1, [T.awsGroup]: 1, [T.awsEip]: 1,
    [T.awsKeyPair]: 1,
  },
  "ollama-home": {
    [T.fleet]: 1, [T.node]: 1, [T.hub]: 1, [T.ollama]: 1, [T.bytes]: 1, [T.localCommand]: 2,
  },
}; // prettier-ignore

describe.each(STACK_NAMES)("stack %s", (stack) => {
  test("declares the expected resources, nothing else", () => {
    const counts: Record<string, number> = {};
    for (const r of run(stack).resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toEqual(EXPECTED[stack]);
  });

  test("no input names the folder the program runs from: the same state from any checkout", () => {
    expect(run(stack).resources.length).toBeGreaterThan(0);
    for (const r of run(stack).resources) {
      expect([r.name, JSON.stringify(r.inputs).includes(PROJECT_DIR)]).toEqual([r.name, false]);
    }
  });

  test("every node is a child of the Fleet; hosts, keys and pushes are children of their node", () => {
    const fleet = byType(run(stack), T.fleet)[0]!;
    for (const node of byType(run(stack), T.node)) {
      expect(node.parent).toBe(fleet.urn);
      for (const part of [`${node.name}-wg-key`, `${node.name}-push`]) {
        expect(named(run(stack), part).parent).toBe(node.urn);
      }
    }
    for (const type of [T.hub, T.ollama, T.vault, T.k3s, T.rollout]) {
      for (const r of byType(run(stack), type)) expect(r.parent).toBe(fleet.urn);
    }
    for (const type of [T.vultrInstance, T.awsInstance, T.record]) {
      for (const r of byType(run(stack), type)) {
        const parent = run(stack).resources.find((p) => p.urn === r.parent);
        expect([T.node, T.k3s]).toContain(parent?.type);
      }
    }
  });

  test("the provider-side firewall opens the policy's public ports, and SSH only to operators", () => {
    const { fleet } = stackSynthesis(stack as StackName);
    for (const node of fleet.nodes.filter((n) => n.provider !== "existing")) {
      const fw = planFirewall(fleet, node);
      const open = [
        ...fw.publicTcpPorts.map((p) => `tcp/${p} from everyone`),
        ...fw.publicUdpPorts.map((p) => `udp/${p} from everyone`),
      ];
      // First contact reaches a new host over public SSH before the mesh exists: only from the
      // operator's networks, never the whole internet.
      const operators = [
        ...new Set([...fleet.ssh.firstContactFrom, ...fw.breakGlass.map((b) => b.cidr)]),
      ].map((cidr) => `tcp/${fleet.ssh.port} from ${cidr}`);
      expect(fleet.ssh.firstContactFrom.length).toBeGreaterThan(0);
      const expected = [...open, ...operators].sort();
      const rule = (protocol: unknown, port: unknown, cidr: string) =>
        `${protocol}/${port} from ${cidr === "0.0.0.0/0" || cidr === "::/0" ? "everyone" : cidr}`;
      // The node's own group, by the id its instance names (the mocks' ids are "<name>-id").
      const groupOf = (id: unknown) => String(id).replace(/-id$/, "");
      if (node.provider === "vultr") {
        const instance = named(run(stack), node.name, T.vultrInstance);
        const group = named(run(stack), groupOf(instance.inputs.firewallGroupId), T.vultrGroup);
        const rules = byType(run(stack), T.vultrRule).filter(
          (r) => r.inputs.firewallGroupId === `${group.name}-id`,
        );
        const of = (ipType: string) =>
          rules
            .filter((r) => r.inputs.ipType === ipType)
            .map((r) =>
              rule(r.inputs.protocol, r.inputs.port, `${r.inputs.subnet}/${r.inputs.subnetSize}`),
            )
            .sort();
        expect(of("v4")).toEqual(expected);
        expect(of("v6")).toEqual(open.sort());
      } else {
        const instance = named(run(stack), node.name, T.awsInstance);
        const [groupId] = instance.inputs.vpcSecurityGroupIds as string[];
        const group = named(run(stack), groupOf(groupId), T.awsGroup);
        const ingress = (
          group.inputs.ingress as { protocol: string; fromPort: number; cidrBlocks: string[] }[]
        )
          .flatMap((i) => i.cidrBlocks.map((c) => rule(i.protocol, i.fromPort, c)))
          .sort();
        expect(ingress).toEqual(expected);
      }
    }
  });

  test("DNS records are never proxied and point at the node", async () => {
    const nodes = await valueOf(run(stack).result.nodes);
    for (const r of byType(run(stack), T.record)) {
      expect([r.name, r.inputs.proxied, r.inputs.ttl]).toEqual([r.name, false, 1]);
      const owner = Object.entries(nodes).find(([, n]) =>
        r.inputs.type === "A"
          ? n.publicIpv4 === r.inputs.content
          : n.publicIpv6 === r.inputs.content,
      );
      expect(owner).toBeDefined();
      expect(r.inputs.zoneId).toMatch(/^zone-/);
    }
  });

  test("private keys, tokens and connections are secret; no key is readable anywhere else", async () => {
    const commands = [...byType(run(stack), T.command), ...byType(run(stack), T.localCommand)];
    const archives = commands.filter((c) => c.inputs.stdin !== undefined && c.inputs.stdin !== "");
    expect(archives.length).toBeGreaterThan(0);
    for (const c of archives)
      expect([c.name, isSecretInput(c.inputs.stdin)]).toEqual([c.name, true]);
    for (const c of byType(run(stack), T.command))
      expect(isSecretInput(c.inputs.connection)).toBe(true);
    for (const push of commands.filter((c) => /-(push|bootstrap)$/.test(c.name))) {
      expect(isSecretInput(push.inputs.stdin)).toBe(true);
      // Reviewers see which node's bundle, secrets or machine changed: the triggers are plain.
      expect(isSecretInput(push.inputs.triggers)).toBe(false);
      expect(push.inputs.triggers).toHaveLength(push.name.endsWith("-push") ? 3 : 1);
      // The plan (routes, host keys) is plain; no key of any kind rides in it.
      expect(JSON.stringify(push.inputs.environment)).not.toMatch(/PRIVATE KEY|"privateKey"/);
      expect(push.inputs.create).toBe("node_modules/.bin/tsx cli/push.ts");
    }
    const privateKeys = byType(run(stack), T.bytes).map((b) => b.name);
    const plaintext = JSON.stringify(
      run(stack).resources.map((r) =>
        Object.fromEntries(Object.entries(r.inputs).filter(([, v]) => !isSecretInput(v))),
      ),
    );
    // The mocks derive each RandomBytes value from its name; none may leak into a plain input.
    for (const name of privateKeys) {
      const value = createHash("sha256").update(name).digest("base64");
      expect([name, plaintext.includes(value)]).toEqual([name, false]);
    }
    for (const instance of [
      ...byType(run(stack), T.vultrInstance),
      ...byType(run(stack), T.awsInstance),
    ]) {
      expect(isSecretInput(instance.inputs.userData)).toBe(true);
    }
    if (run(stack).result.k3s) {
      expect(await pulumi.isSecret(run(stack).result.k3s!.kubeconfig)).toBe(true);
    }
  });

  test("each created machine has a retire: it runs only when deleted, and first contact waits for it", () => {
    const r = run(stack);
    for (const node of byType(r, T.node)) {
      const retire = r.resources.find((x) => x.name === `${node.name}-retire`);
      const machine = r.resources.find(
        (x) => x.name === node.name && (x.type === T.vultrInstance || x.type === T.awsInstance),
      );
      expect([node.name, retire?.type]).toEqual([node.name, machine && T.localCommand]);
      if (!retire) continue;
      expect([retire.inputs.create, retire.inputs.delete]).toEqual([undefined, RETIRE_COMMAND]);
      // Its route is the push's: the management path, recorded as it is now.
      const push = named(r, `${node.name}-push`);
      const plan = parseRetirePlan(retire.inputs.environment[RETIRE_PLAN_VARIABLE]);
      expect(plan).toEqual({
        node: node.name,
        route: parsePushPlan(push.inputs.environment[PUSH_PLAN_VARIABLE]).apply,
        dial: RETIRE_DIAL,
      });
      // The machine triggers it, as it does first contact, which waits for it, as the push does.
      const bootstrap = named(r, `${node.name}-bootstrap`);
      expect(retire.inputs.triggers).toEqual(bootstrap.inputs.triggers);
      expect(bootstrap.dependencies).toContain(retire.urn);
      expect(push.dependencies).toContain(retire.urn);
    }
  });

  test("two runs declare the same inputs, byte for byte", async () => {
    const again = await runStack(stack);
    const view = (r: StackRun) =>
      JSON.stringify(r.resources.map((x) => [x.type, x.name, x.parent, unwrap(x.inputs)]).sort());
    expect(view(again)).toEqual(view(run(stack)));
    runs.set(stack, again);
  });
});

describe("provider inputs", () => {
  test("Vultr: the plan, region and image of the stack file, IPv6 on, no backups", () => {
    const { fleet } = stackSynthesis("clavitor");
    for (const node of fleet.nodes.filter((n) => n.provider === "vultr")) {
      const i = named(run("clavitor"), node.name, T.vultrInstance).inputs;
      expect([i.plan, i.region, i.osId, i.enableIpv6, i.backups]).toEqual([
        "vc2-1c-0.5gb",
        node.region,
        2136,
        true,
        "disabled",
      ]);
    }
  });

  test("AWS: the newest NixOS image of the stack's release, t3.medium, 30 GB gp3, IMDSv2, an Elastic IP", async () => {
    await runStack("openclaw");
    const lookup = calls.find((c) => c.token === "aws:ec2/getAmiIds:getAmiIds");
    const release = stackSynthesis("openclaw").fleet.nixpkgs?.release;
    expect(release).toBe("26.05");
    expect(lookup?.inputs).toMatchObject({
      owners: ["427812963091"],
      sortAscending: false,
      filters: expect.arrayContaining([
        { name: "name", values: [`nixos/${release}*-x86_64-linux`] },
        { name: "architecture", values: ["x86_64"] },
      ]),
    });
    const i = named(run("openclaw"), "server-1", T.awsInstance).inputs;
    expect(i.instanceType).toBe("t3.medium");
    expect(i.ami).toBe(AMI_IDS[0]); // the newest
    expect(i.metadataOptions.httpTokens).toBe("required");
    expect(i.rootBlockDevice).toMatchObject({ volumeSize: 30, volumeType: "gp3", encrypted: true });
    expect(i.userDataReplaceOnChange).toBe(false);
    expect(named(run("openclaw"), "server-1-eip").inputs.domain).toBe("vpc");
    expect(named(run("openclaw"), "openclaw-aws-us-east-1", T.awsProvider).inputs.region).toBe(
      "us-east-1",
    );
  });

  test("AWS: no image of the stack's release stops the program with the release, region and fix", () => {
    // In a process of its own: the program fails the way the CLI sees it (see programProcess).
    const r = run_(
      "npx",
      ["tsx", join(__dirname, "../helpers/programProcess.ts"), "openclaw", "no-images"],
      {
        timeoutMs: 60_000,
      },
    );
    const message =
      "server-1: AWS has no official NixOS 26.05 image in us-east-1 (owner 427812963091, name nixos/26.05*-x86_64-linux). Fix: move fleet.nixpkgs.branch (and its rev and sha256) to a NixOS release that still has images (README: Upgrading NixOS).";
    expect(r.stderr.split("\n")).toContain(`error: [runtime] ${message}`);
    const out = JSON.parse(r.stdout) as { rejections: string[]; registered: string[] };
    expect(out.rejections).toHaveLength(1);
    expect(out.rejections[0]?.endsWith(`"ami": ${message}`)).toBe(true);
    // The instance is never declared: no provider error can follow.
    expect(out.registered.filter((t) => t.startsWith(T.awsInstance))).toEqual([]);
    expect(out.registered.filter((t) => t.startsWith(T.awsGroup))).toHaveLength(1);
  });

  test("Vultr: NixOS starts from Ubuntu 22.04 and nixos-infect, pinned, installs the stack's release", async () => {
    await runStack("prod");
    const images = calls
      .filter((c) => c.token === "vultr:index/getOs:getOs")
      .map((c) => c.inputs.filters[0].values[0]);
    expect(new Set(images)).toEqual(new Set(["Ubuntu 22.04 LTS x64"]));
    const { fleet } = stackSynthesis("prod");
    for (const node of fleet.nodes.filter((n) => n.provider === "vultr")) {
      const userData = parse(
        unwrap(named(run("prod"), node.name, T.vultrInstance).inputs.userData),
      ) as { runcmd: string[]; write_files: { path: string; content: string }[] };
      expect(userData.runcmd).toEqual([
        "curl -fsSL https://raw.githubusercontent.com/elitak/nixos-infect/7563801d3ae68c975e4027f4e31a3906dca95f30/nixos-infect | NIXOS_IMPORT=./host.nix NIX_CHANNEL=nixos-26.05 bash -x >/var/log/nixos-infect.log 2>&1",
      ]);
      const hostNix = userData.write_files.find((f) => f.path === "/etc/nixos/host.nix");
      expect(hostNix?.content).toContain(
        `system.stateVersion = lib.mkForce "${node.nixosStateVersion}";`,
      );
    }
  });

  test("first-boot inputs never replace a running server: a new image, user data, operator key or hostname", () => {
    for (const i of byType(run("prod"), T.vultrInstance)) {
      expect([i.name, [...i.ignoreChanges].sort()]).toEqual([
        i.name,
        ["hostname", "osId", "sshKeyIds", "userData"],
      ]);
    }
    for (const i of byType(run("prod"), T.awsInstance)) {
      expect([i.name, i.ignoreChanges]).toEqual([i.name, ["ami", "keyName"]]);
    }
  });

  test("vault names are DNS-only records in their zone (seed 001)", () => {
    const records = byType(run("clavitor"), T.record);
    expect(
      records
        .filter((r) => r.inputs.type === "A")
        .map((r) => r.inputs.name)
        .sort(),
    ).toEqual(
      stackSynthesis("clavitor")
        .fleet.nodes.map((n) => `${n.name}.clavitor.com`)
        .sort(),
    );
    expect(new Set(records.map((r) => r.inputs.zoneId))).toEqual(new Set(["zone-clavitor.com"]));
  });

  test("seed 003's ingress names point at the k3s server", async () => {
    const ip = (await valueOf(run("openclaw").result.nodes))["server-1"]!.publicIpv4;
    const records = byType(run("openclaw"), T.record);
    expect(records.map((r) => [r.inputs.name, r.inputs.content]).sort()).toEqual(
      ["api", "app", "nango", "proxy"].map((h) => [`${h}.openclaw.trustbit.co.in`, ip]),
    );
  });
});
