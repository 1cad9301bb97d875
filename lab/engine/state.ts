// The engine's checkpoint for one lab stack: every resource with its inputs, outputs and
// relations, as Pulumi keeps it, so one run follows another as `pulumi up` runs do. Secrets are
// encrypted in the file (AES-256-GCM, Pulumi's `ciphertext` form) with a key kept beside the
// lab's own record, mode 0600; the file itself may be kept anywhere.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isSecret, SECRET_SIG, SIG_KEY, type Props, type Value } from "./values";

export interface ResourceState {
  readonly urn: string;
  readonly type: string;
  readonly custom: boolean;
  /** The provider's id; "" for components. */
  readonly id: string;
  /** The parent's URN; "" for the stack itself. */
  readonly parent: string;
  /** `<provider urn>::<provider id>` for custom resources, as the SDK refers to it. */
  readonly provider: string;
  readonly inputs: Props;
  readonly outputs: Props;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  readonly additionalSecretOutputs?: readonly string[];
  /** Replaced (create before delete) and waiting for its delete: step.go CreateStep.Apply. */
  readonly delete?: boolean;
  /** Deleted by a delete-before-replace whose create has not happened yet. */
  readonly pendingReplacement?: boolean;
}

export interface Checkpoint {
  readonly stack: string;
  readonly resources: readonly ResourceState[];
}

export function emptyCheckpoint(stack: string): Checkpoint {
  return { stack, resources: [] };
}

/** Reads and writes a checkpoint file; secrets are sealed with the key at `keyFile`. */
export class CheckpointFile {
  private key: Buffer | undefined;

  constructor(
    readonly file: string,
    private readonly keyFile: string,
  ) {}

  load(stack: string): Checkpoint {
    if (!existsSync(this.file)) return emptyCheckpoint(stack);
    const parsed = JSON.parse(readFileSync(this.file, "utf8")) as Checkpoint;
    return {
      stack: parsed.stack,
      resources: parsed.resources.map((r) => ({
        ...r,
        inputs: this.open(r.inputs) as Props,
        outputs: this.open(r.outputs) as Props,
      })),
    };
  }

  save(checkpoint: Checkpoint): void {
    const sealed = {
      stack: checkpoint.stack,
      resources: checkpoint.resources.map((r) => ({
        ...r,
        inputs: this.seal(r.inputs),
        outputs: this.seal(r.outputs),
      })),
    };
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }

  private secretKey(): Buffer {
    if (!this.key) {
      if (!existsSync(this.keyFile)) {
        mkdirSync(dirname(this.keyFile), { recursive: true });
        writeFileSync(this.keyFile, randomBytes(32).toString("base64"), { mode: 0o600 });
      }
      this.key = Buffer.from(readFileSync(this.keyFile, "utf8").trim(), "base64");
    }
    return this.key;
  }

  private seal(v: Value): Value {
    if (isSecret(v)) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", this.secretKey(), iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(v.value ?? null)), cipher.final()]);
      const ciphertext = Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
      return { [SIG_KEY]: SECRET_SIG, ciphertext: `v1:${ciphertext}` };
    }
    if (Array.isArray(v)) return v.map((x) => this.seal(x));
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, this.seal(x)]));
    }
    return v;
  }

  private open(v: Value): Value {
    if (isSecret(v) && typeof v.ciphertext === "string") {
      const raw = Buffer.from(v.ciphertext.replace(/^v1:/, ""), "base64");
      const decipher = createDecipheriv("aes-256-gcm", this.secretKey(), raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString();
      return { [SIG_KEY]: SECRET_SIG, value: JSON.parse(text) as Value };
    }
    if (Array.isArray(v)) return v.map((x) => this.open(x));
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, this.open(x)]));
    }
    return v;
  }
}
