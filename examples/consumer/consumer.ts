// What another stack can build on: the hub to dial, the Ollama model for coding work, the k3s
// API with its kubeconfig (still a secret here), and the vault nodes' public names.
import * as pulumi from "@pulumi/pulumi";

interface NodeOutput {
  provider: string;
  meshIp: string;
  publicIpv4: string | null;
  fqdn: string | null;
  roles: string[];
}
interface OllamaRoute {
  node: string;
  purpose: string | null;
  url: string;
}

export function defineConsumer(config: pulumi.Config) {
  const mesh = new pulumi.StackReference(config.require("meshStack"));
  const nodes = mesh.requireOutput("nodes") as pulumi.Output<Record<string, NodeOutput>>;
  const ollama = mesh.requireOutput("ollama") as pulumi.Output<Record<string, OllamaRoute>>;
  const k3s = mesh.getOutput("k3s") as pulumi.Output<
    { apiEndpoint: string; kubeconfig: string } | undefined
  >;
  return {
    hubEndpoint: mesh
      .getOutput("hub")
      .apply((hub) => (hub ? (hub as { endpoint: string }).endpoint : null)),
    codingModel: ollama.apply((routes) => {
      const [model, route] = Object.entries(routes).find(([, r]) => r.purpose === "coding") ?? [];
      return model && route ? { model, url: route.url } : null;
    }),
    kubeApi: k3s.apply((k) => k?.apiEndpoint ?? null),
    kubeconfig: pulumi.secret(k3s.apply((k) => k?.kubeconfig ?? null)),
    vaultNames: nodes.apply((all) =>
      Object.values(all)
        .filter((n) => n.roles.includes("vault") && n.fqdn)
        .map((n) => n.fqdn as string)
        .sort(),
    ),
  };
}
