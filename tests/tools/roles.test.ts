// The role files of every node, read by the tools that will read them on the node: systemd
// (systemd-analyze verify), fail2ban (its own config test and effective values), apt
// (apt-config) and k3s's YAML config against the flags NixOS passes.
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { STACKS, stackSynthesis, writeFiles, type StackName } from "../helpers/stacks";
import { requireTools, run, runOk, tempDir } from "../helpers/run";

requireTools("systemd-analyze", "unshare", "fail2ban-client", "apt-config");
const tmp = tempDir("roles");
afterAll(() => tmp.remove());

const withRoles = STACKS.flatMap((stack) =>
  stackSynthesis(stack)
    .plan.nodes.filter((n) => n.ollama || n.vault || n.k3s || n.hardening.fail2ban)
    .map((n): [StackName, string] => [stack, n.name]),
);
const file = (stack: StackName, node: string, path: string) =>
  stackSynthesis(stack).files.get(`nodes/${node}/${path}`);

/**
 * systemd-analyze verify, in a private mount namespace where the programs the units start
 * exist (stand-ins), beside stand-in units for what they order themselves after. Returns
 * what verify printed: nothing means systemd found nothing to say.
 */
function verify(dir: string): string {
  writeFileSync(
    join(dir, "ollama.service"),
    "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n",
  );
  writeFileSync(
    join(dir, "k3s.service"),
    "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n",
  );
  const units = readdirSync(dir)
    .filter((f) => /\.(service|timer)$/.test(f))
    .map((f) => join(dir, f));
  const stubs = [
    "/opt/clavitor/clavitor",
    "/usr/local/lib/clawd-mesh/vault-integrity-check",
    "/usr/local/lib/clawd-mesh/ollama-models",
    "/usr/local/lib/clawd-mesh/k3s-snapshot",
  ];
  const script = [
    "set -e",
    "mount -t tmpfs stand-ins /opt",
    "mount -t tmpfs stand-ins /usr/local/lib",
    ...stubs.map(
      (s) =>
        `mkdir -p ${s.replace(/\/[^/]+$/, "")} && printf '#!/bin/sh\\n' >${s} && chmod 755 ${s}`,
    ),
    `exec systemd-analyze verify ${units.join(" ")}`,
  ].join("\n");
  const r = run("unshare", ["-m", "sh", "-c", script]);
  return `${r.stderr}${r.status === 0 ? "" : `exit ${r.status}`}`;
}

test("verify sees a unit's mistakes (the check below can fail)", () => {
  const dir = join(tmp.path, "control");
  mkdirSync(dir);
  writeFileSync(join(dir, "broken.service"), "[Service]\nExecStart=/bin/true\nMemoryMaxx=1G\n");
  expect(verify(dir)).toContain("Unknown key 'MemoryMaxx'");
});

describe.each(withRoles)("%s/%s role files", (stack, node) => {
  test("systemd-analyze verify finds nothing to say about the units", () => {
    const dir = join(tmp.path, `${stack}-${node}`);
    const units = [...stackSynthesis(stack).files].filter(([p]) =>
      p.startsWith(`nodes/${node}/systemd/`),
    );
    if (units.length === 0) return; // fail2ban only: no units
    writeFiles(new Map(units.map(([p, c]) => [p.slice(`nodes/${node}/systemd/`.length), c])), dir);
    expect(verify(dir)).toBe("");
  });

  test("fail2ban accepts its jail and reads seed 004's numbers from it", () => {
    const jail = file(stack, node, "fail2ban/clawd-mesh-sshd.local");
    const plan = stackSynthesis(stack).plan.nodes.find((n) => n.name === node)!;
    if (!plan.hardening.fail2ban) {
      expect(jail).toBeUndefined();
      return;
    }
    const dir = join(tmp.path, `f2b-${stack}-${node}`);
    cpSync("/etc/fail2ban", dir, { recursive: true });
    writeFileSync(join(dir, "jail.d", "clawd-mesh-sshd.local"), jail ?? "");
    expect(runOk("fail2ban-client", ["-c", dir, "-t"])).toContain(
      "configuration test is successful",
    );
    const dump = runOk("fail2ban-client", ["-c", dir, "-d"]);
    for (const [key, value] of [
      ["maxretry", "5"],
      ["findtime", "'600'"],
      ["bantime", "'3600'"],
    ]) {
      expect(dump).toContain(`['set', 'sshd', '${key}', ${value}]`);
    }
  });

  test("k3s's config.yaml carries exactly the plan's settings", () => {
    const plan = stackSynthesis(stack).plan.nodes.find((n) => n.name === node)!;
    if (!plan.k3s) return;
    const config = parse(file(stack, node, "k3s/config.yaml") ?? "") as Record<string, unknown>;
    const settings = Object.entries(config).filter(([k]) => k !== "token-file" && k !== "server");
    expect(settings).toEqual(plan.k3s.settings);
    expect(config["token-file"]).toBe(plan.k3s.tokenFile);
    expect(config.server ?? null).toBe(plan.k3s.serverUrl);
    expect(config["write-kubeconfig-mode"] ?? "0600").toMatch(/^0[0-7]{3}$/);
  });
});

test("apt reads the unattended-upgrades files: daily, security updates only", () => {
  const debian = STACKS.flatMap((s) =>
    stackSynthesis(s)
      .plan.nodes.filter((n) => n.hardening.unattendedUpgrades)
      .map((n) => [s, n.name] as const),
  );
  expect(debian.length).toBeGreaterThan(3);
  const [stack, node] = debian[0]!;
  const parts = join(tmp.path, "apt.conf.d");
  mkdirSync(parts);
  // What Debian's package ships first; our later file must clear its wider patterns.
  writeFileSync(
    join(parts, "50unattended-upgrades"),
    'Unattended-Upgrade::Origins-Pattern {\n  "origin=Debian,codename=${distro_codename},label=Debian";\n  "origin=Debian,codename=${distro_codename}-updates";\n};\n',
  );
  // apt reads APT_CONFIG before its parts directory: point that at ours, and no main file.
  const main = join(tmp.path, "apt.conf");
  writeFileSync(main, `Dir::Etc::Parts "${parts}";\nDir::Etc::Main "/dev/null";\n`);
  const dump = () => runOk("apt-config", ["dump"], { env: { ...process.env, APT_CONFIG: main } });
  expect(dump()).toContain("Unattended-Upgrade::Origins-Pattern::"); // Debian's, before ours
  for (const name of ["20auto-upgrades", "52clawd-mesh-security-only"]) {
    writeFileSync(join(parts, name), file(stack, node, `apt/${name}`) ?? "");
  }
  const effective = dump();
  expect(effective).toContain('APT::Periodic::Update-Package-Lists "1";');
  expect(effective).toContain('APT::Periodic::Unattended-Upgrade "1";');
  expect(effective).toContain(
    'Unattended-Upgrade::Allowed-Origins:: "${distro_id}:${distro_codename}-security";',
  );
  expect(effective).not.toContain("Origins-Pattern::");
});

test("hosts that are not Debian or Ubuntu get no apt files", () => {
  for (const stack of STACKS) {
    for (const n of stackSynthesis(stack).plan.nodes.filter(
      (x) => !["debian", "ubuntu"].includes(x.os),
    )) {
      expect([stack, n.name, file(stack, n.name, "apt/20auto-upgrades")]).toEqual([
        stack,
        n.name,
        undefined,
      ]);
    }
  }
});
