// Running the stack program under mocks for a stack file or a raw fleet.
import * as pulumi from "@pulumi/pulumi";
import { defineStack } from "../../components/stack";
import { loadStackFleet } from "../../core/fleet/load";
import { runWithMocks, type Registered, type Run } from "./mocks";
import { PROJECT_DIR } from "./stacks";

export type StackRun = Run<ReturnType<typeof defineStack>>;

export function runFleet(
  fleet: unknown,
  config: Record<string, string> = {},
  options: { operatorKey?: boolean } = {},
): Promise<StackRun> {
  return runWithMocks(fleet, () => defineStack(new pulumi.Config("clawd-mesh")), config, options);
}

export function runStack(stack: string, config: Record<string, string> = {}): Promise<StackRun> {
  return runFleet(loadStackFleet(PROJECT_DIR, stack), config);
}

export function byType(run: StackRun, type: string): Registered[] {
  return run.resources.filter((r) => r.type === type);
}

export function named(run: StackRun, name: string, type?: string): Registered {
  const found = run.resources.find((r) => r.name === name && (!type || r.type === type));
  if (!found) throw new Error(`no resource ${name}${type ? ` of type ${type}` : ""}`);
  return found;
}

export const T = {
  fleet: "clawd-mesh:mesh:Fleet",
  node: "clawd-mesh:mesh:MeshNode",
  hub: "clawd-mesh:mesh:WireGuardHub",
  ollama: "clawd-mesh:roles:OllamaNode",
  vault: "clawd-mesh:roles:VaultNode",
  k3s: "clawd-mesh:roles:K3sCluster",
  rollout: "clawd-mesh:roles:VaultRollout",
  localCommand: "command:local:Command",
  bytes: "random:index/randomBytes:RandomBytes",
  password: "random:index/randomPassword:RandomPassword",
  command: "command:remote:Command",
  record: "cloudflare:index/dnsRecord:DnsRecord",
  vultrInstance: "vultr:index/instance:Instance",
  vultrGroup: "vultr:index/firewallGroup:FirewallGroup",
  vultrRule: "vultr:index/firewallRule:FirewallRule",
  vultrKey: "vultr:index/sSHKey:SSHKey",
  awsProvider: "pulumi:providers:aws",
  awsInstance: "aws:ec2/instance:Instance",
  awsGroup: "aws:ec2/securityGroup:SecurityGroup",
  awsEip: "aws:ec2/eip:Eip",
  awsKeyPair: "aws:ec2/keyPair:KeyPair",
} as const;
