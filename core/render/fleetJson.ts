// fleet.json: the contract later tools (the lab, reviewers' diffs) read. Stable key order.
import type { FleetPlan } from "../plan/model";

export function fleetDocument(
  plan: FleetPlan,
  peers: readonly { name: string; group: string; meshIp: string }[],
) {
  return {
    mesh: {
      name: plan.mesh.name,
      cidr: plan.mesh.cidr,
      topology: plan.mesh.topology,
      listenPort: plan.mesh.listenPort,
    },
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      provider: n.provider,
      region: n.region,
      os: n.os,
      roles: n.roles,
      meshIp: n.meshIp,
      // null both behind NAT and while the cloud has not assigned an address yet.
      publicIp: n.provider === "existing" ? n.publicIp : null,
      dnsName: n.dnsName,
      publicTcpPorts: n.firewall.publicTcpPorts,
      publicUdpPorts: n.firewall.publicUdpPorts,
      breakGlass: n.firewall.breakGlass,
      sshPort: n.ssh.port,
      meshAccess: n.firewall.meshAccess.map((a) => ({
        from: a.from,
        fromIp: a.fromIp,
        tcpPorts: a.tcpPorts,
        udpPorts: a.udpPorts,
        ping: a.ping,
      })),
    })),
    peers: peers.map((p) => ({ name: p.name, group: p.group, meshIp: p.meshIp })),
  };
}

export function renderFleetJson(
  plan: FleetPlan,
  peers: readonly { name: string; group: string; meshIp: string }[],
): string {
  return `${JSON.stringify(fleetDocument(plan, peers), null, 2)}\n`;
}
