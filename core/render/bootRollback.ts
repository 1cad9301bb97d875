// What rolls back, at boot, a push that a restart caught before it was confirmed: its rollback
// timer (systemd-run's transient timer, or the detached sleeper) died with the old boot, so
// nothing else would put the last confirmed configuration back before the mesh, the firewall
// and sshd read the unconfirmed one. The pending push's own rollback.sh does the work (the
// same lock, the same record as its timer); these files only start it early enough.
import type { NodeModel } from "../plan/model";
import { BOOT_ROLLBACK_SCRIPT } from "../plan/files";
import { header } from "./header";

const WHAT = "The boot rollback";
// Through sh, not run directly: /var may be mounted noexec.
const ROLLBACK = BOOT_ROLLBACK_SCRIPT;

/** systemd: a oneshot in early boot, before the units that read what it restores. */
export function renderBootRollbackUnit(node: NodeModel): string {
  const iface = node.wireguard.interface;
  // Outside the default dependencies: nftables.service runs before sysinit.target.
  const before = [
    "sysinit.target",
    "network-pre.target",
    "nftables.service",
    `wg-quick@${iface}.service`,
    "ssh.service",
    "ssh.socket",
    "sshd.service",
    "shutdown.target",
  ];
  return `${header(node, WHAT)}
[Unit]
Description=Roll back a push left unconfirmed by a restart
DefaultDependencies=no
After=local-fs.target
Before=${before.join(" ")}
Conflicts=shutdown.target
ConditionPathExists=${ROLLBACK}

[Service]
Type=oneshot
ExecStart=/bin/sh ${ROLLBACK} boot

[Install]
WantedBy=sysinit.target
`;
}

/** OpenRC: a service of the boot runlevel, before the firewall, the network and sshd. */
export function renderBootRollbackOpenrc(node: NodeModel): string {
  return `#!/sbin/openrc-run
${header(node, WHAT)}
description="Roll back a push left unconfirmed by a restart"

depend() {
	need localmount
	before nftables networking net sshd local
}

start() {
	[ -f ${ROLLBACK} ] || return 0
	ebegin "Rolling back a push left unconfirmed by a restart"
	/bin/sh ${ROLLBACK} boot
	eend $?
}
`;
}
