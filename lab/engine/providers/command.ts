// The command provider, pulumi-command v1.2.1 on pulumi-go-provider v1.3.0's `infer`, as its
// source reads (cited per rule; the transport that dials and runs is operator/ssh.ts):
// - Check applies the connection's defaults and marks it secret (infer Check; remote/connection.go
//   Annotate: user root, port 22, dialErrorLimit 10, perDialTimeout 15).
// - Diff is infer's default: old inputs against new, key by key, a secret equal only to an equal
//   secret; only `triggers` added, removed or replaced as a whole replaces by itself
//   (infer/resource.go diff; schema replaceOnChanges on `triggers`). The Node SDK adds
//   replaceOnChanges ["triggers[*]"], which the engine applies (sdk/nodejs/remote/command.ts).
// - Create runs `create`; Update runs `update`, else `create`, with the new inputs; Delete runs
//   `delete` only if the old state has one (remote/commandController.go).
// - A preview runs nothing; stdout and stderr are unknown (infer markComputed).
// - There is no Read: a refresh changes nothing.
import { randomBytes } from "node:crypto";
import type { Package, ResourceProvider } from "../provider";
import { detailedDiff, reveal, secret, UNKNOWN, type Props, type Value } from "../values";
import type { DetailedKind, DiffResult } from "../provider";
import type { LocalRequest, Previous, RemoteInputs } from "../../../operator/ssh";

/**
 * How commands reach a host or run locally (operator/ssh.ts's Transport, which the lab passes;
 * the connection arrives as the provider's inputs hold it, unchecked).
 */
export interface CommandTransport {
  remote(
    r: RemoteInputs & { connection: { host: string } & Record<string, unknown> },
  ): Promise<{ stdout: string; stderr: string }>;
  local(r: LocalRequest): Promise<{ stdout: string; stderr: string }>;
}

const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";

const CONNECTION_DEFAULTS = { user: "root", port: 22, dialErrorLimit: 10, perDialTimeout: 15 };

/** remote/connection.go Annotate: the defaults, on the target and on its proxy. */
function checkConnection(connection: Value | undefined): Value {
  const plain = (reveal(connection ?? {}) ?? {}) as Record<string, Value>;
  const proxy = plain.proxy as Record<string, Value> | undefined;
  return secret({
    ...CONNECTION_DEFAULTS,
    ...plain,
    ...(proxy && { proxy: { ...CONNECTION_DEFAULTS, ...proxy } }),
  });
}

/** infer's default diff: detailed, secret-aware; `triggers` as a whole replaces. */
function inferDiff(olds: Props, news: Props): DiffResult {
  const paths = detailedDiff(olds, news);
  if (Object.keys(paths).length === 0) return { changes: "none" };
  const detailed: Record<string, DetailedKind> = {};
  for (const [path, kind] of Object.entries(paths)) {
    detailed[path] = path === "triggers" ? (`${kind}-replace` as DetailedKind) : kind;
  }
  return { changes: "some", detailedDiff: detailed };
}

const text = (v: Value | undefined): string | undefined => {
  const plain = reveal(v ?? null);
  return typeof plain === "string" ? plain : undefined;
};

const env = (v: Value | undefined): Record<string, string> | undefined => {
  const plain = reveal(v ?? null);
  return plain && typeof plain === "object" && !Array.isArray(plain)
    ? (plain as Record<string, string>)
    : undefined;
};

/** The previous outputs, for PULUMI_COMMAND_STDOUT/STDERR (remote/commandOutputs.go run). */
function previousOf(outputs: Props): Previous {
  return { stdout: text(outputs.stdout) ?? "", stderr: text(outputs.stderr) ?? "" };
}

function run(
  transport: CommandTransport,
  kind: "remote" | "local",
  inputs: Props,
  command: string,
  previous?: Previous,
) {
  const stdin = text(inputs.stdin);
  const environment = env(inputs.environment);
  const common = {
    command,
    ...(stdin && { stdin }),
    ...(environment && { environment }),
    ...(previous && { previous }),
    ...(inputs.addPreviousOutputInEnv === false && { addPreviousOutputInEnv: false }),
  };
  if (kind === "remote") {
    return transport.remote({
      ...common,
      connection: reveal(inputs.connection ?? {}) as { host: string } & Record<string, unknown>,
    });
  }
  const interpreter = reveal(inputs.interpreter ?? null) as string[] | null;
  const dir = text(inputs.dir);
  return transport.local({ ...common, ...(interpreter && { interpreter }), ...(dir && { dir }) });
}

/** Outputs: the inputs echoed with their secrecy, stdout and stderr. */
function outputs(inputs: Props, result: { stdout: Value; stderr: Value }): Props {
  return { ...inputs, stdout: result.stdout, stderr: result.stderr };
}

function commandResource(kind: "remote" | "local", transport: CommandTransport): ResourceProvider {
  return {
    check: (r) =>
      kind === "remote" ? { ...r.news, connection: checkConnection(r.news.connection) } : r.news,
    diff: (r) => inferDiff(r.olds, r.news),
    create: async (r) => {
      // infer: the id is the name followed by 8 random hex digits (resource.NewUniqueHex).
      const id = `${r.name}${randomBytes(4).toString("hex")}`;
      if (r.preview)
        return { id, outputs: outputs(r.inputs, { stdout: UNKNOWN, stderr: UNKNOWN }) };
      const create = text(r.inputs.create);
      if (!create) return { id, outputs: outputs(r.inputs, { stdout: "", stderr: "" }) };
      return { id, outputs: outputs(r.inputs, await run(transport, kind, r.inputs, create)) };
    },
    update: async (r) => {
      if (r.preview) return outputs(r.news, { stdout: UNKNOWN, stderr: UNKNOWN });
      const command = text(r.news.update) ?? text(r.news.create);
      if (!command) return outputs(r.news, previousOf(r.oldOutputs) as never);
      return outputs(r.news, await run(transport, kind, r.news, command, previousOf(r.oldOutputs)));
    },
    delete: async (r) => {
      const command = text(r.inputs.delete);
      if (!command) return;
      await run(transport, kind, r.inputs, command, previousOf(r.outputs));
    },
  };
}

export function commandPackage(transport: CommandTransport): Package {
  return {
    resources: {
      [REMOTE]: commandResource("remote", transport),
      [LOCAL]: commandResource("local", transport),
    },
  };
}
