// The engine's own resources: a StackReference reads another stack's last outputs (here from
// the lab's checkpoints), secret outputs named in `secretOutputNames`.
import type { Package } from "../provider";
import { isSecret, reveal, type Props } from "../values";

export function pulumiPackage(stackOutputs: (stack: string) => Props | undefined): Package {
  const read = async (r: { id: string }) => {
    const outputs = stackOutputs(r.id);
    if (!outputs) throw new Error(`unknown stack "${r.id}"`);
    return {
      id: r.id,
      outputs: {
        name: r.id,
        outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, reveal(v)])),
        secretOutputNames: Object.keys(outputs).filter((k) => isSecret(outputs[k])),
      },
    };
  };
  return {
    resources: {
      "pulumi:pulumi:StackReference": {
        create: async () => {
          throw new Error("a StackReference is read, never created");
        },
        update: async (r) => r.oldOutputs,
        delete: async () => undefined,
        read,
      },
    },
  };
}
