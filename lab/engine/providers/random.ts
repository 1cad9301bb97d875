// random (terraform-provider-random 3.x, internal/provider): bytes and passwords made once and
// kept; every field the program sets replaces them (resource_bytes.go keepers and length
// RequiresReplace; resource_password.go: every settable field), so an update changes nothing.
import { randomBytes, randomInt } from "node:crypto";
import type { Package } from "../provider";
import { UNKNOWN, type Props } from "../values";
import { bridgedDiff } from "./bridged";

const BYTES = "random:index/randomBytes:RandomBytes";
const PASSWORD = "random:index/randomPassword:RandomPassword";

function password(inputs: Props): string {
  const length = Number(inputs.length ?? 16);
  const sets = [
    inputs.lower !== false ? "abcdefghijklmnopqrstuvwxyz" : "",
    inputs.upper !== false ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ" : "",
    inputs.numeric !== false && inputs.number !== false ? "0123456789" : "",
    inputs.special !== false ? String(inputs.overrideSpecial ?? "!@#$%&*()-_=+[]{}<>:?") : "",
  ].join("");
  return Array.from({ length }, () => sets[randomInt(sets.length)]).join("");
}

export const randomPackage: Package = {
  resources: {
    [BYTES]: {
      diff: (r) => bridgedDiff(r.olds, r.news, ["keepers", "length"]),
      create: async (r) => {
        const bytes = randomBytes(Number(r.inputs.length ?? 32));
        const known = !r.preview;
        return {
          id: known ? bytes.toString("base64") : "",
          outputs: {
            ...r.inputs,
            base64: known ? bytes.toString("base64") : UNKNOWN,
            hex: known ? bytes.toString("hex") : UNKNOWN,
          },
        };
      },
      update: async (r) => ({ ...r.oldOutputs, ...r.news }),
      delete: async () => undefined,
    },
    [PASSWORD]: {
      diff: (r) => bridgedDiff(r.olds, r.news, Object.keys({ ...r.olds, ...r.news })),
      create: async (r) => ({
        id: r.preview ? "" : "none",
        outputs: { ...r.inputs, result: r.preview ? UNKNOWN : password(r.inputs) },
      }),
      update: async (r) => ({ ...r.oldOutputs, ...r.news }),
      delete: async () => undefined,
    },
  },
};
