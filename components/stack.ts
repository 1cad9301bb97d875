// The stack's program: index.ts exports what this returns. A function, so tests run the very
// same code under Pulumi's mocks.
import * as pulumi from "@pulumi/pulumi";
import { pruneBundles } from "../core/delivery/bundleStore";
import { readProgramConfig } from "./config";
import { MeshFleet } from "./fleet";
import { withoutPromiseTraces } from "./promiseTraces";

export function defineStack(config: pulumi.Config) {
  const { fleet, credentials, kumaPushUrls, push } = readProgramConfig(config);
  // Bundles this program's pushes no longer need (the pushes load theirs by digest).
  pruneBundles();
  const mesh = withoutPromiseTraces(
    () =>
      new MeshFleet(fleet.mesh.name, {
        fleet,
        credentials,
        push,
        ...(kumaPushUrls && { kumaPushUrls }),
      }),
  );
  return {
    nodes: mesh.nodeOutputs(),
    hub: mesh.hub && {
      endpoint: mesh.hub.endpoint,
      publicKey: mesh.hub.publicKey,
      cidr: mesh.hub.cidr,
    },
    sshConfig: mesh.sshConfig,
    peers: mesh.peerConfigs,
    ollama: mesh.ollamaRoutes(),
    k3s: mesh.k3s && { apiEndpoint: mesh.k3s.apiEndpoint, kubeconfig: mesh.k3s.kubeconfig },
    mesh,
  };
}
