// Another stack reads the prod stack's outputs through a StackReference.
import * as pulumi from "@pulumi/pulumi";
import { defineConsumer } from "../../examples/consumer/consumer";
import { runWithMocks, stackOutputs, valueOf } from "../helpers/mocks";
import { runStack } from "../helpers/program";

test("the example consumer finds the hub, the coding model, the k3s API and the vault names", async () => {
  const prod = await runStack("prod");
  const r = prod.result;
  stackOutputs.set("acme/clawd-mesh/prod", {
    outputs: {
      nodes: await valueOf(r.nodes),
      hub: await valueOf(pulumi.output(r.hub)),
      ollama: r.ollama,
      k3s: await valueOf(pulumi.output(r.k3s)),
      sshConfig: await valueOf(r.sshConfig),
    },
    secret: ["k3s"],
  });
  const consumer = await runWithMocks(
    {},
    () => defineConsumer(new pulumi.Config("clawd-mesh-consumer")),
    { "clawd-mesh-consumer:meshStack": "acme/clawd-mesh/prod" },
  );
  const c = consumer.result;
  expect(await valueOf(c.hubEndpoint)).toBe("192.0.2.10:51820");
  expect(await valueOf(c.codingModel)).toEqual({
    model: "qwen2.5-coder:3b",
    url: "http://10.84.0.33:11434",
  });
  expect(await valueOf(c.kubeApi)).toBe("https://10.84.0.48:6443");
  expect(await valueOf(c.kubeconfig)).toContain("server: https://10.84.0.48:6443");
  expect(await pulumi.isSecret(c.kubeconfig)).toBe(true);
  expect(await valueOf(c.vaultNames)).toHaveLength(16);
});
