// The real sshd reads every rendered sshd_config: it must accept it (-t), and the effective
// values (-T) must be seed 004's table, also with Ubuntu's cloud-init drop-in in place.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allNodes, stackSynthesis } from "../helpers/stacks";
import { requireTools, run, runOk, tempDir } from "../helpers/run";
import { effectiveSshd } from "../helpers/sshd";

requireTools("sshd", "ssh-keygen", "unshare", "mount");
const tmp = tempDir("sshd");
const hostKey = join(tmp.path, "ssh_host_ed25519_key");

beforeAll(() => {
  mkdirSync("/run/sshd", { recursive: true }); // sshd -t insists on its privilege-separation dir
  runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
});
afterAll(() => tmp.remove());

function configOf(stack: Parameters<typeof stackSynthesis>[0], node: string): string {
  const file = join(tmp.path, `${stack}-${node}.sshd_config`);
  writeFileSync(file, stackSynthesis(stack).files.get(`nodes/${node}/sshd_config`) ?? "");
  return file;
}

const TABLE: [string, string][] = [
  ["authenticationmethods", "publickey"],
  ["pubkeyauthentication", "yes"],
  ["passwordauthentication", "no"],
  ["kbdinteractiveauthentication", "no"],
  ["permitemptypasswords", "no"],
  ["permitrootlogin", "no"],
  ["maxauthtries", "3"],
  ["logingracetime", "20"],
  ["clientaliveinterval", "300"],
  ["clientalivecountmax", "2"],
  ["allowagentforwarding", "no"],
  ["x11forwarding", "no"],
  ["usedns", "no"],
  ["permittunnel", "no"],
  ["permituserenvironment", "no"],
];

describe.each(allNodes())("%s/%s sshd_config", (stack, name) => {
  const node = () => stackSynthesis(stack).plan.nodes.find((n) => n.name === name)!;

  test("sshd -t accepts it", () => {
    const r = run("sshd", ["-t", "-f", configOf(stack, name), "-h", hostKey]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("sshd -T shows the hardening table, modern algorithms and the planned binding", () => {
    const n = node();
    const eff = effectiveSshd(configOf(stack, name), hostKey);
    for (const [key, value] of TABLE) expect([key, eff.get(key)]).toEqual([key, value]);
    expect(eff.get("allowusers")).toBe(n.ssh.adminUser);
    expect(eff.get("allowtcpforwarding")).toBe(n.roles.includes("entry") ? "local" : "no");
    expect(eff.get("kexalgorithms")?.split(",")).toEqual([
      "sntrup761x25519-sha512@openssh.com",
      "curve25519-sha256",
      "curve25519-sha256@libssh.org",
    ]);
    expect(
      eff
        .get("ciphers")
        ?.split(",")
        .every((c) => /gcm|chacha20-poly1305/.test(c)),
    ).toBe(true);
    expect(
      eff
        .get("macs")
        ?.split(",")
        .every((m) => m.includes("-etm@")),
    ).toBe(true);
    expect(eff.get("hostkeyalgorithms")).toBe("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com");
    const listen = eff.get("listenaddress");
    if (n.ssh.listenAddresses.length > 0) expect(listen).toBe(`${n.meshIp}:${n.ssh.port}`);
    else expect(listen).toBe(`[::]:${n.ssh.port} 0.0.0.0:${n.ssh.port}`);
  });
});

describe("Ubuntu's cloud-init drop-in (PasswordAuthentication yes)", () => {
  const dropIns = join(tmp.path, "sshd_config.d");
  // Runs sshd -T with our drop-in directory mounted over /etc/ssh/sshd_config.d, in a private
  // mount namespace so the host's own /etc/ssh is untouched.
  const inPlantedNamespace = (args: string[]): [string, string[]] => [
    "unshare",
    [
      "-m",
      "sh",
      "-c",
      'mount --bind "$0" /etc/ssh/sshd_config.d && exec sshd "$@"',
      dropIns,
      ...args,
    ],
  ];

  beforeAll(() => {
    mkdirSync("/etc/ssh/sshd_config.d", { recursive: true });
    mkdirSync(dropIns, { recursive: true });
    writeFileSync(join(dropIns, "50-cloud-init.conf"), "PasswordAuthentication yes\n");
  });

  test("the planted drop-in is live: a config that includes it turns passwords on", () => {
    const control = join(tmp.path, "control.sshd_config");
    writeFileSync(control, "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n");
    const eff = effectiveSshd(control, hostKey, undefined, inPlantedNamespace);
    expect(eff.get("passwordauthentication")).toBe("yes");
  });

  test.each(allNodes())("%s/%s still says no", (stack, name) => {
    const eff = effectiveSshd(configOf(stack, name), hostKey, undefined, inPlantedNamespace);
    expect(eff.get("passwordauthentication")).toBe("no");
    expect(eff.get("kbdinteractiveauthentication")).toBe("no");
  });
});

// First contact's variant: the same table, listening on every address until the mesh is proven.
const firstContact = allNodes().filter(([stack, name]) =>
  stackSynthesis(stack).files.has(`nodes/${name}/bootstrap/sshd_config`),
);
test.each(firstContact)(
  "%s/%s: the first-contact sshd_config differs only in where it listens",
  (stack, name) => {
    const s = stackSynthesis(stack);
    const text = s.files.get(`nodes/${name}/bootstrap/sshd_config`) ?? "";
    const file = join(tmp.path, `${stack}-${name}.bootstrap.sshd_config`);
    writeFileSync(file, text);
    expect(run("sshd", ["-t", "-f", file, "-h", hostKey]).status).toBe(0);
    const normal = (s.files.get(`nodes/${name}/sshd_config`) ?? "").split("\n");
    expect(
      normal
        .filter((l) => !text.split("\n").includes(l))
        .every((l) => l.startsWith("ListenAddress ")),
    ).toBe(true);
    expect(text.split("\n").filter((l) => !normal.includes(l))).toEqual([]);
    expect(text).not.toMatch(/^ListenAddress /m);
  },
);
