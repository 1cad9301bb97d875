// What cloud-init would do on a lab host's first boot with the user data the program sends
// (core/render/userData.ts): read as cloud-init reads it, applied by lab/image.ts. Only the
// parts that shape a host before its first push are applied: host keys and files. Commands
// are not run — the one the program sends installs NixOS over the image, which a lab host
// cannot become — and the boot says so in one line.
import { parse } from "yaml";

/** Host key types cloud-init generates by default, less dsa, which OpenSSH no longer offers. */
export const GENERATED_KEY_TYPES = ["rsa", "ecdsa", "ed25519"] as const;
export type KeyType = (typeof GENERATED_KEY_TYPES)[number];

export interface FileToWrite {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface FirstBoot {
  /** Remove the image's own host keys first (cloud-init's ssh_deletekeys, on by default). */
  readonly deleteKeys: boolean;
  /** Host keys given in ssh_keys; when any is given, none is generated. */
  readonly keys: Partial<Record<KeyType, { private: string; public?: string }>>;
  /** Key types to generate where missing (ssh_genkeytypes), when ssh_keys is absent. */
  readonly generate: readonly KeyType[];
  readonly files: readonly FileToWrite[];
  /** One line each for what the lab leaves out (commands, unknown keys). */
  readonly notRun: readonly string[];
}

/** A host booted with no cloud-init at all: keeps its image's keys, runs nothing. */
const UNTOUCHED: FirstBoot = { deleteKeys: false, keys: {}, generate: [], files: [], notRun: [] };

const APPLIED = new Set(["ssh_deletekeys", "ssh_keys", "ssh_genkeytypes", "write_files"]);

export function readUserData(userData: string): FirstBoot {
  const firstLine = userData.split("\n", 1)[0] ?? "";
  if (userData.trim() === "") return readCloudConfig({});
  if (firstLine.startsWith("#!")) {
    // NixOS's EC2 image runs such a script itself; cloud-init is not involved.
    return {
      ...UNTOUCHED,
      notRun: [`user data is a script (${firstLine}): not run in the lab`],
    };
  }
  if (firstLine.trim() !== "#cloud-config") {
    return { ...UNTOUCHED, notRun: [`user data not understood (${firstLine}): not applied`] };
  }
  // cloud-init reads YAML 1.1 (PyYAML): an unquoted 0644 is octal there.
  const config: unknown = parse(userData, { version: "1.1" }) ?? {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new Error("user data: #cloud-config must hold a mapping");
  }
  return readCloudConfig(config as Record<string, unknown>);
}

function readCloudConfig(config: Record<string, unknown>): FirstBoot {
  const sshKeys = (config.ssh_keys ?? undefined) as Record<string, string> | undefined;
  const keys: FirstBoot["keys"] = {};
  for (const type of GENERATED_KEY_TYPES) {
    const privateKey = sshKeys?.[`${type}_private`];
    if (privateKey) keys[type] = { private: privateKey, public: sshKeys?.[`${type}_public`] };
  }
  const notRun: string[] = [];
  const runcmd = config.runcmd;
  if (Array.isArray(runcmd) && runcmd.length > 0) {
    const first = String(runcmd[0]);
    const shown = first.length > 90 ? `${first.slice(0, 90)}…` : first;
    notRun.push(`runcmd not run in the lab (${runcmd.length} command(s): ${shown})`);
  }
  const files = (config.write_files ?? []) as Record<string, unknown>[];
  const known = (type: string): type is KeyType =>
    (GENERATED_KEY_TYPES as readonly string[]).includes(type);
  const genKeyTypes = (config.ssh_genkeytypes as string[] | undefined) ?? GENERATED_KEY_TYPES;
  const ignored = [
    ...Object.keys(config).filter((k) => !APPLIED.has(k) && k !== "runcmd"),
    ...Object.keys(sshKeys ?? {})
      .filter((k) => !GENERATED_KEY_TYPES.some((t) => k === `${t}_private` || k === `${t}_public`))
      .map((k) => `ssh_keys.${k}`),
    ...genKeyTypes.filter((t) => !known(t)).map((t) => `ssh_genkeytypes ${t}`),
    ...new Set(
      files.flatMap((f) =>
        Object.keys(f)
          .filter((k) => !["path", "content", "permissions"].includes(k))
          .map((k) => `write_files[].${k}`),
      ),
    ),
  ];
  if (ignored.length > 0) notRun.push(`cloud-config not applied in the lab: ${ignored.join(", ")}`);
  return {
    deleteKeys: config.ssh_deletekeys !== false,
    keys,
    // As cloud-init: given keys replace generation altogether.
    generate: sshKeys ? [] : genKeyTypes.filter(known),
    files: files.map(fileToWrite),
    notRun,
  };
}

function fileToWrite(entry: Record<string, unknown>, i: number): FileToWrite {
  const path = entry.path;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new Error(`user data: write_files[${i}].path must be an absolute path`);
  }
  const permissions = entry.permissions ?? "0644";
  const mode = typeof permissions === "number" ? permissions : parseInt(String(permissions), 8);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new Error(
      `user data: write_files[${i}].permissions ${String(permissions)} is not a mode`,
    );
  }
  return { path, content: String(entry.content ?? ""), mode };
}
