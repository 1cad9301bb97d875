// What the emulated cloud providers act on: hosts booted as an image hands them over, the
// provider firewall at each host's edge, addresses, and the records of the cloud's own API,
// kept in a file so one engine run follows another. The lab implements it with network
// namespaces (lab/cloud.ts); the engine's unit tests with a stand-in.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Os } from "../../../core/fleet/catalog";

/** One rule of a provider firewall: inbound traffic it accepts. */
export interface EdgeRule {
  readonly protocol: "tcp" | "udp" | "icmp";
  /** Inclusive port range; every port when absent. */
  readonly ports?: readonly [number, number];
  readonly cidr: string;
}

/** How an image hands a host over: the account the registered keys log in to, and its OS. */
export interface Image {
  readonly loginUser: string;
  readonly description: string;
  readonly os: Os;
}

export interface BootSpec {
  readonly name: string;
  readonly image: Image;
  readonly authorizedKeys: readonly string[];
  /** Applied as the image applies user data on first boot (cloud-init, or not at all). */
  readonly userData: string;
  /** The provider firewall, in force from the first packet; none when absent. */
  readonly edge?: readonly EdgeRule[];
}

export interface Cloud {
  boot(spec: BootSpec): Promise<{ readonly hostId: string; readonly ipv4: string }>;
  destroy(hostId: string): Promise<void>;
  /** The provider firewall in front of a host: `undefined` lets everything in. */
  setEdge(hostId: string, rules: readonly EdgeRule[] | undefined): Promise<void>;
  allocateAddress(): Promise<string>;
  releaseAddress(ip: string): Promise<void>;
  /** An address moved onto a host (an Elastic IP), or back to its own with `undefined`. */
  assignAddress(hostId: string, ip: string | undefined): Promise<void>;
  /** DNS as a resolver would see it: the lab writes zone files it can read. */
  publishRecords(records: readonly DnsRecord[]): Promise<void>;
  readonly api: ApiStore;
}

export interface DnsRecord {
  readonly zone: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
}

/** The cloud APIs' own records (keys, groups, instances…), by kind and id, kept in a file. */
export class ApiStore {
  private data: Record<string, Record<string, unknown>>;

  constructor(private readonly file?: string) {
    this.data =
      file && existsSync(file)
        ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>)
        : {};
  }

  get<T>(kind: string, id: string): T | undefined {
    return this.data[kind]?.[id] as T | undefined;
  }

  all<T>(kind: string): [string, T][] {
    return Object.entries(this.data[kind] ?? {}) as [string, T][];
  }

  put(kind: string, id: string, value: unknown): void {
    (this.data[kind] ??= {})[id] = value;
    this.save();
  }

  remove(kind: string, id: string): void {
    delete this.data[kind]?.[id];
    this.save();
  }

  /** A fresh id in the cloud's style. */
  newId(prefix: string): string {
    const n = (Number(this.data.counters?.[prefix] ?? 0) || 0) + 1;
    (this.data.counters ??= {})[prefix] = n;
    this.save();
    return `${prefix}${n.toString(16).padStart(8, "0")}`;
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}
