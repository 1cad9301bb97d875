// clawd-mesh: a WireGuard-meshed fleet from the `fleet` object of the stack's config.
import * as pulumi from "@pulumi/pulumi";
import { defineStack } from "./components/stack";

const stack = defineStack(new pulumi.Config());

export const nodes = stack.nodes;
export const hub = stack.hub;
export const sshConfig = stack.sshConfig;
export const peers = stack.peers;
export const ollama = stack.ollama;
export const k3s = stack.k3s;
