// Hardening on hosts that boot systemd (stack clawd: its Ubuntu nodes on SystemdHosts): the
// entry node's fail2ban bans an internet address after 5 failed logins, in nftables, for an
// hour; unattended-upgrades reads the pushed configuration and allows the security origin only.
import type { Lab } from "../../lab/lab";
import { INTERNET_IP, INTERNET_NETNS } from "../../lab/network";
import { run } from "../helpers/run";
import { startLab, stopLab } from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("clawd", { hosts: "systemd" });
}, 600_000);
afterAll(() => stopLab());

const clawd = () => lab.nodeHost("clawd")!;

test("fail2ban bans an internet address after 5 failed logins, for 3600 s, in nftables", () => {
  const host = clawd();
  expect(host.init).toBe("systemd");
  expect(host.try("systemctl", ["is-active", "fail2ban"]).stdout.trim()).toBe("active");
  const jail = (what: string) => host.run("fail2ban-client", ["get", "sshd", what]).trim();
  expect([jail("maxretry"), jail("findtime"), jail("bantime")]).toEqual(["5", "600", "3600"]);
  const address = lab.facts().get("clawd")?.publicIpv4;
  expect(address).toBeTruthy();
  // An account that does not exist: sshd logs "Invalid user", which the jail counts.
  const attempt = () =>
    run(
      "ip",
      [
        "netns",
        "exec",
        INTERNET_NETNS,
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=3",
        `intruder@${address}`,
        "true",
      ],
      { timeoutMs: 10_000 },
    );
  const banned = () => /Banned IP list:\s+\S/.test(host.run("fail2ban-client", ["status", "sshd"]));
  for (let i = 0; i < 5; i++) expect(attempt().status).not.toBe(0);
  const deadline = Date.now() + 15_000;
  while (!banned() && Date.now() < deadline) run("sleep", ["0.3"]);
  expect(host.run("fail2ban-client", ["status", "sshd"])).toContain(INTERNET_IP);
  expect(host.run("nft", ["list", "table", "inet", "f2b-table"])).toContain(INTERNET_IP);
  // Banned: the next connection from there does not reach sshd.
  const after = attempt();
  expect(after.status).not.toBe(0);
  expect(after.stderr).not.toMatch(/Permission denied/);
}, 120_000);

test("unattended-upgrade --dry-run reads the pushed configuration: the security origin only", () => {
  const out = clawd().run("unattended-upgrade", ["--dry-run", "--debug"], { timeoutMs: 120_000 });
  const allowed = /Allowed origins are: (.*)/.exec(out)?.[1];
  expect(allowed).toBeDefined();
  const origins = allowed!.split(", ").map((o) => o.trim());
  expect(origins).toHaveLength(1);
  expect(origins[0]).toMatch(/-security$/);
  expect(clawd().run("apt-config", ["dump", "APT::Periodic::Unattended-Upgrade"])).toContain('"1"');
}, 180_000);
