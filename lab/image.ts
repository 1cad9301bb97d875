// Hosts as they are handed over before the first push: a cloud instance as its image boots it
// (its login user, the provider's copy of the operator's key, cloud-init applying the user
// data), or an existing host as its owner left it. Nothing of clawd-mesh is on either yet.
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { sshHostKeyFromSeed, type SshHostKey } from "../core/crypto/keys";
import { GENERATED_KEY_TYPES, readUserData, type FirstBoot } from "./cloudInit";
import { LabHost, unusedNetns, type HostInit } from "./host";
import type { EdgeRule, Internet, Link } from "./network";
import type { StateRecorder } from "./state";
import { SystemdHost } from "./systemdHost";

export interface LabSite {
  readonly internet: Internet;
  readonly state: StateRecorder;
  readonly log: (line: string) => void;
}

export interface ImageBoot {
  readonly name: string;
  /** The account the image lets the key into: "root" (Vultr, NixOS on AWS), "ubuntu", "admin"… */
  readonly loginUser: string;
  readonly authorizedKeys: readonly string[];
  /** As the provider passes it on: "#cloud-config" YAML, a "#!" script, or "". */
  readonly userData: string;
  readonly address: string;
  /** The provider's firewall, in force before anything listens; none when absent. */
  readonly edge?: readonly EdgeRule[];
  /** A host that boots systemd, or the init-less one (the default). */
  readonly init?: HostInit;
}

export interface BootedHost {
  readonly host: LabHost;
  readonly link: Link;
}

const CLOUD_SSH_PORT = 22;

/** Boots a cloud instance: a new host on the internet, as its image and cloud-init leave it. */
export async function bootImage(site: LabSite, boot: ImageBoot): Promise<BootedHost> {
  const firstBoot = readUserData(boot.userData);
  const host = await newHost(boot.name, unusedNetns("cml-c"), site.state, boot.init ?? "plain");
  try {
    const link = host.plugInto(site.internet, boot.address);
    if (boot.edge) link.setEdge(boot.edge);
    // The image's own key, as a pristine image has one; cloud-init replaces it unless told not to.
    const imageKey = sshHostKeyFromSeed(randomBytes(32).toString("base64"), `root@${boot.name}`);
    writeHostKey(host, "ed25519", imageKey.privateKey, imageKey.publicKey);
    // cloud-init's order: files, then users, then host keys; sshd starts after it.
    for (const file of firstBoot.files) writeAs(host, file.path, file.content, file.mode);
    addLoginUser(host, boot.loginUser, boot.authorizedKeys, "90-cloud-init-users");
    installHostKeys(host, firstBoot);
    for (const line of firstBoot.notRun) site.log(`  ${boot.name}: ${line}`);
    startSshd(host, CLOUD_SSH_PORT, boot.loginUser === "root" ? "prohibit-password" : "no");
    return { host, link };
  } catch (error) {
    host.destroy(); // a failed create leaves no instance behind
    throw error;
  }
}

export interface Handover {
  /** The one account the operator's key opens: an existing host's admin, or root. */
  readonly loginUser: string;
  readonly authorizedKeys: readonly string[];
  readonly hostKey: SshHostKey;
  readonly sshPort: number;
}

/**
 * A host that is already there, as its owner left it, on a host plugged in publicly or behind
 * NAT: the account with the operator's key (and sudo, unless root), sshd with the host's own
 * key, root login only when root is the account.
 */
export function handOver(host: LabHost, handover: Handover): void {
  const { loginUser } = handover;
  addLoginUser(host, loginUser, handover.authorizedKeys, `owner-${loginUser}`);
  writeHostKey(host, "ed25519", handover.hostKey.privateKey, handover.hostKey.publicKey);
  startSshd(host, handover.sshPort, loginUser === "root" ? "prohibit-password" : "no");
}

/** A host of either kind: systemd boots before the image's files are written, as on a cloud. */
export async function newHost(
  name: string,
  netns: string,
  state: StateRecorder,
  init: HostInit,
): Promise<LabHost> {
  return init === "systemd"
    ? SystemdHost.boot(name, netns, state)
    : new LabHost(name, netns, state);
}

/** The account the key logs in as; others than root get passwordless sudo, as images give. */
function addLoginUser(
  host: LabHost,
  user: string,
  keys: readonly string[],
  sudoersFile: string,
): void {
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new Error(`"${user}" is not a user name`);
  const home = user === "root" ? "/root" : `/home/${user}`;
  if (user !== "root") {
    host.run("useradd", ["--create-home", "--shell", "/bin/bash", "--user-group", user]);
    writeAs(host, `/etc/sudoers.d/${sudoersFile}`, `${user} ALL=(ALL) NOPASSWD:ALL\n`, 0o440);
  }
  const authorized = `${home}/.ssh/authorized_keys`;
  writeAs(host, authorized, keys.map((k) => `${k}\n`).join(""), 0o600);
  chmodSync(host.path(`${home}/.ssh`), 0o700);
  const [uid, gid] = idsOf(host, user);
  for (const inside of [`${home}/.ssh`, authorized]) chownSync(host.path(inside), uid, gid);
}

/** A user's uid and gid in the host's own /etc/passwd. */
function idsOf(host: LabHost, user: string): [number, number] {
  const line = readFileSync(host.path("/etc/passwd"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no user ${user} on ${host.name}`);
  return [Number(uid), Number(gid)];
}

/** sshd as an image starts it: every host key in /etc/ssh, keys only. */
function startSshd(host: LabHost, port: number, rootLogin: "prohibit-password" | "no"): void {
  const hostKeys = GENERATED_KEY_TYPES.map((t) => `/etc/ssh/ssh_host_${t}_key`).filter((key) =>
    existsSync(host.path(key)),
  );
  if (hostKeys.length === 0) throw new Error(`lab host ${host.name} has no SSH host key`);
  const config = [
    `Port ${port}`,
    ...hostKeys.map((key) => `HostKey ${key}`),
    "PidFile /run/sshd.pid",
    `PermitRootLogin ${rootLogin}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM yes",
    "Subsystem sftp internal-sftp",
    "",
  ];
  writeAs(host, "/etc/ssh/sshd_config", config.join("\n"), 0o644);
  // systemd started the image's ssh service at boot, before the host had keys: it failed, and
  // restarted until its start limit (5 in 10 s) refused more, so a plain restart can be refused
  // too ("Start request repeated too quickly"). On a cloud, cloud-init writes the keys before
  // ssh starts; here the failures are forgotten first.
  if (host.init === "systemd") {
    host.run("systemctl", ["reset-failed", "ssh.service"]);
    host.run("systemctl", ["restart", "ssh.service"]);
  } else host.run("/usr/sbin/sshd", ["-f", "/etc/ssh/sshd_config"]);
}

/** cloud-init's ssh module: delete the image's keys, then write the given ones or generate. */
function installHostKeys(host: LabHost, boot: FirstBoot): void {
  if (boot.deleteKeys) {
    for (const type of GENERATED_KEY_TYPES) {
      for (const suffix of ["", ".pub"]) {
        rmSync(host.path(`/etc/ssh/ssh_host_${type}_key${suffix}`), { force: true });
      }
    }
  }
  for (const [type, key] of Object.entries(boot.keys)) {
    const file = `/etc/ssh/ssh_host_${type}_key`;
    writeHostKey(host, type, key.private, key.public);
    if (!key.public) {
      writeAs(host, `${file}.pub`, host.run("ssh-keygen", ["-y", "-f", file]), 0o644);
    }
  }
  for (const type of boot.generate) {
    const file = `/etc/ssh/ssh_host_${type}_key`;
    if (existsSync(host.path(file))) continue;
    if (type === "ed25519") {
      const key = sshHostKeyFromSeed(randomBytes(32).toString("base64"), `root@${host.name}`);
      writeHostKey(host, type, key.privateKey, key.publicKey);
    } else host.run("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", file]);
  }
}

function writeHostKey(host: LabHost, type: string, privateKey: string, publicKey?: string): void {
  const file = `/etc/ssh/ssh_host_${type}_key`;
  writeAs(host, file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, 0o600);
  if (publicKey) writeAs(host, `${file}.pub`, `${publicKey.trim()}\n`, 0o644);
}

/** Writes a file of the host by its path inside; root-owned, as cloud-init writes them. */
function writeAs(host: LabHost, inside: string, content: string, mode: number): void {
  const file = host.path(inside);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}
