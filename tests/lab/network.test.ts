// The simulated internet with real traffic: a provider's firewall at a host's edge (stateful,
// inbound dropped unless a rule accepts it), an address that moves, a host destroyed without a
// trace, and hosts booted from the user data the program sends.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sshHostKeyFromSeed } from "../../core/crypto/keys";
import { cloudInitUserData, nixosAmiUserData } from "../../core/render/userData";
import { labDown } from "../../lab/down";
import { must } from "../../lab/exec";
import { bootImage, type BootedHost, type ImageBoot, type LabSite } from "../../lab/image";
import { INTERNET_IP, INTERNET_NETNS, Internet, ROUTER_NETNS, labAddress } from "../../lab/network";
import { readState, StateRecorder } from "../../lab/state";
import { requireTools, run, tempDir } from "../helpers/run";

/** Another host out on the internet, for rules that admit one source and not another. */
const STRANGER_NETNS = "cml-stranger";
const STRANGER_IP = "198.18.0.3";

let site: LabSite;
const logged: string[] = [];
const bootSeconds: number[] = [];
const keys = tempDir("network");
const operator = sshHostKeyFromSeed(randomBytes(32).toString("base64"), "operator");
const operatorKeyFile = join(keys.path, "id_operator");

beforeAll(() => {
  requireTools("ip", "nft", "sshd", "ssh", "ssh-keyscan", "ping", "useradd", "timeout");
  if (readState()) labDown(() => undefined); // a lab left by an interrupted run
  const state = new StateRecorder({ stack: "network-test", netns: [], mounts: [], dirs: [] });
  site = { internet: new Internet(state), state, log: (line) => logged.push(line) };
  must("ip", ["netns", "add", STRANGER_NETNS]);
  state.netns(STRANGER_NETNS);
  site.internet.attach(STRANGER_NETNS, STRANGER_IP);
  writeFileSync(operatorKeyFile, operator.privateKey, { mode: 0o600 });
});
afterAll(() => {
  labDown(() => undefined);
  keys.remove();
  console.log(`lab host boot times: ${bootSeconds.map((s) => `${s.toFixed(2)} s`).join(", ")}`);
});

async function boot(
  b: Partial<ImageBoot> & Pick<ImageBoot, "name" | "address">,
): Promise<BootedHost> {
  const started = Date.now();
  const booted = await bootImage(site, {
    loginUser: "ubuntu",
    authorizedKeys: [operator.publicKey],
    userData: "#cloud-config\nssh_genkeytypes: [ed25519]\n",
    ...b,
  });
  bootSeconds.push((Date.now() - started) / 1000);
  return booted;
}

type Answer = "connects" | "refused" | "silent" | "unreachable";

/** A TCP connection from a namespace: bash's /dev/tcp, two seconds at most. */
function tcp(netns: string, ip: string, port: number): Answer {
  const r = run("ip", [
    "netns",
    "exec",
    netns,
    "timeout",
    "2",
    "bash",
    "-c",
    `: <>/dev/tcp/${ip}/${port}`,
  ]);
  if (r.status === 0) return "connects";
  if (r.status === 124) return "silent";
  if (/refused/.test(r.stderr)) return "refused";
  if (/unreachable|No route/.test(r.stderr)) return "unreachable";
  throw new Error(`tcp ${ip}:${port} from ${netns}: ${r.stderr}`);
}

const ping = (netns: string, ip: string) =>
  run("ip", ["netns", "exec", netns, "ping", "-n", "-q", "-c", "1", "-W", "1", ip]).status === 0;

/** A TCP server on `port` that greets and hangs up; it dies with its namespace. */
function serve(netns: string, port: number, greeting: string): void {
  // A client that hangs up at once resets the socket: without a handler that error would end
  // the server.
  const script = `require("net").createServer((s) => s.on("error", () => {}).end(${JSON.stringify(greeting)})).listen(${port})`;
  must("ip", [
    "netns",
    "exec",
    netns,
    "sh",
    "-c",
    `setsid ${process.execPath} -e '${script}' </dev/null >/dev/null 2>&1 &`,
  ]);
  must("ip", [
    "netns",
    "exec",
    netns,
    "sh",
    "-c",
    `for i in $(seq 50); do [ -n "$(ss -Htln "sport = :${port}")" ] && exit 0; sleep 0.1; done; exit 1`,
  ]);
}

describe("the edge: a provider's firewall in front of a host", () => {
  let web: BootedHost;
  beforeAll(async () => {
    // The group is in force from the first packet, before anything in the host listens.
    web = await boot({
      name: "web",
      address: labAddress("cloud", 0),
      edge: [{ protocol: "tcp", ports: [80, 80], cidr: "0.0.0.0/0" }],
    });
    serve(web.host.netns, 80, "web\n");
    serve(INTERNET_NETNS, 8080, "www\n");
  });

  test("tcp 80 from anywhere: 80 answers; ssh, a closed port and ping are dropped", () => {
    const ip = web.link.address;
    expect(tcp(INTERNET_NETNS, ip, 80)).toBe("connects");
    expect(tcp(INTERNET_NETNS, ip, 22)).toBe("silent");
    // Closed behind an open edge would be refused; the edge drops it first.
    expect(tcp(INTERNET_NETNS, ip, 81)).toBe("silent");
    expect(ping(INTERNET_NETNS, ip)).toBe(false);
  });

  test("replies to the host's own connections pass", () => {
    const greeting = web.host.run("bash", ["-c", `exec 3<>/dev/tcp/${INTERNET_IP}/8080; cat <&3`], {
      timeoutMs: 5000,
    });
    expect(greeting).toBe("www\n");
    expect(web.host.try("ping", ["-n", "-q", "-c", "1", "-W", "1", INTERNET_IP]).status).toBe(0);
  });

  test("a cidr rule admits that source only; the new rules replace the old", () => {
    web.link.setEdge([{ protocol: "tcp", ports: [22, 22], cidr: `${STRANGER_IP}/32` }]);
    const ip = web.link.address;
    expect(tcp(STRANGER_NETNS, ip, 22)).toBe("connects");
    expect(tcp(INTERNET_NETNS, ip, 22)).toBe("silent");
    expect(tcp(INTERNET_NETNS, ip, 80)).toBe("silent");
  });

  test("removing the edge opens everything", () => {
    web.link.setEdge(undefined);
    const ip = web.link.address;
    expect(tcp(INTERNET_NETNS, ip, 22)).toBe("connects");
    expect(tcp(INTERNET_NETNS, ip, 80)).toBe("connects");
    expect(tcp(INTERNET_NETNS, ip, 81)).toBe("refused");
    expect(ping(INTERNET_NETNS, ip)).toBe(true);
  });

  test("readdress moves the host: the new address answers, the old one does not", () => {
    const old = web.link.address;
    const elastic = labAddress("elastic", 0);
    web.link.setEdge([{ protocol: "tcp", ports: [80, 80], cidr: "0.0.0.0/0" }]);
    web.link.readdress(elastic);
    expect(web.link.address).toBe(elastic);
    expect(tcp(INTERNET_NETNS, elastic, 80)).toBe("connects");
    expect(["silent", "unreachable"]).toContain(tcp(INTERNET_NETNS, old, 80));
    expect(tcp(INTERNET_NETNS, elastic, 22)).toBe("silent"); // the edge moved with it
    const addresses = web.host.run("ip", ["-4", "-o", "address", "show", "dev", "eth0"]);
    expect(addresses).toContain(`${elastic}/15`);
    expect(addresses).not.toContain(`${old}/`);
  });

  test("destroy leaves no process, namespace, mount, folder, route or chain behind", () => {
    const { netns, root } = web.host;
    const started = Date.now();
    web.host.destroy();
    console.log(`lab host destroyed in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    expect(must("ip", ["netns", "list"])).not.toMatch(new RegExp(`^${netns}( |$)`, "m"));
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(root);
    expect(existsSync(root)).toBe(false);
    const state = readState()!;
    expect(
      [...state.netns, ...state.mounts, ...state.dirs].filter((x) => x.includes(netns)),
    ).toEqual([]);
    expect(must("ip", ["-n", ROUTER_NETNS, "route"])).not.toContain(labAddress("elastic", 0));
    const ruleset = must("ip", ["netns", "exec", ROUTER_NETNS, "nft", "list", "ruleset"]);
    expect(ruleset.match(/chain edge_/g)).toHaveLength(2); // www's and the stranger's
    expect(tcp(INTERNET_NETNS, labAddress("elastic", 0), 80)).not.toBe("connects");
  });
});

describe("booting from the user data the program sends", () => {
  const identity = sshHostKeyFromSeed(randomBytes(32).toString("base64"), "lab-cloud");
  const knownHosts = join(keys.path, "known_hosts");

  /** ssh as `user` with the operator's key, the host key pinned to the one the program made. */
  const ssh = (user: string, ip: string, command: string) => {
    writeFileSync(knownHosts, `${ip} ${identity.publicKey}\n`);
    return run("ip", [
      "netns",
      "exec",
      INTERNET_NETNS,
      "ssh",
      "-F",
      "/dev/null",
      "-i",
      operatorKeyFile,
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "ConnectTimeout=5",
      `${user}@${ip}`,
      command,
    ]);
  };
  const keyscan = (ip: string) =>
    run("ip", ["netns", "exec", INTERNET_NETNS, "ssh-keyscan", "-T", "5", ip])
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ").slice(1).join(" "))
      .sort();

  test("a Debian image (login user admin): that host key only; admin in with sudo, root not", async () => {
    const host = await boot({
      name: "debian",
      loginUser: "admin",
      address: labAddress("cloud", 1),
      userData: cloudInitUserData("debian", identity),
    });
    const ip = host.link.address;
    expect(keyscan(ip)).toEqual([identity.publicKey]);
    const admin = ssh("admin", ip, "id -un && sudo -n true && echo sudo");
    expect([admin.status, admin.stdout]).toEqual([0, "admin\nsudo\n"]);
    const root = ssh("root", ip, "true");
    expect([root.status, root.stderr]).toEqual([255, expect.stringMatching(/Permission denied/)]);
    host.host.destroy();
  });

  test("a Vultr image becoming NixOS (login user root): root in, files written, runcmd skipped", async () => {
    const host = await boot({
      name: "nixos",
      loginUser: "root",
      address: labAddress("cloud", 2),
      userData: cloudInitUserData("nixos", identity, {
        branch: "nixos-26.05",
        stateVersion: "26.05",
      }),
    });
    const ip = host.link.address;
    expect(keyscan(ip)).toEqual([identity.publicKey]);
    const root = ssh("root", ip, "id -un && stat -c %a /etc/nixos/ssh_host_ed25519_key");
    expect([root.status, root.stdout]).toEqual([0, "root\n600\n"]);
    expect(host.host.run("cat", ["/etc/nixos/ssh_host_ed25519_key"])).toBe(identity.privateKey);
    expect(logged).toContainEqual(
      expect.stringMatching(
        /^ {2}nixos: runcmd not run in the lab \(1 command\(s\): curl .*nixos-infect/,
      ),
    );
    host.host.destroy();
  });

  test("a #! script (NixOS on AWS) is not run: the host keeps its image's key", async () => {
    const host = await boot({
      name: "nixos-ami",
      loginUser: "root",
      address: labAddress("cloud", 3),
      userData: nixosAmiUserData(identity),
    });
    const served = keyscan(host.link.address);
    expect(served).toHaveLength(1);
    expect(served[0]).toMatch(/^ssh-ed25519 /);
    expect(served[0]).not.toBe(identity.publicKey);
    expect(logged).toContain("  nixos-ami: user data is a script (#!/bin/sh): not run in the lab");
    host.host.destroy();
  });
});
