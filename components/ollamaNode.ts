// An Ollama node: its models and where other stacks reach them (seed 000 §7's routing:
// coding, general and heavy work each go to the node that holds the model for it).
import * as pulumi from "@pulumi/pulumi";
import { OLLAMA_PORT } from "../core/fleet/catalog";
import type { OllamaModel } from "../core/fleet/fleet";
import type { MeshNode } from "./meshNode";

export interface OllamaRoute {
  readonly node: string;
  readonly purpose: string | null;
  /** The Ollama API on the node's mesh address; reachable only where access rules allow. */
  readonly url: string;
}

export interface OllamaNodeArgs {
  readonly node: MeshNode;
  readonly models: readonly OllamaModel[];
}

export class OllamaNode extends pulumi.ComponentResource {
  readonly url: string;
  readonly routes: Readonly<Record<string, OllamaRoute>>;

  constructor(name: string, args: OllamaNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:roles:OllamaNode", name, {}, opts);
    this.url = `http://${args.node.meshIp}:${OLLAMA_PORT}`;
    this.routes = Object.fromEntries(
      args.models.map((m) => [
        m.name,
        { node: args.node.spec.name, purpose: m.purpose ?? null, url: this.url },
      ]),
    );
    this.registerOutputs({ url: this.url, routes: this.routes });
  }
}
