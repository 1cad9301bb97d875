// What the engine asks of a provider, as the Pulumi provider protocol shapes it (Check, Diff,
// Create, Update, Delete, Read, Invoke), cut down to what the lab's emulated providers need.
import type { DiffKind, Props } from "./values";

export type DetailedKind = DiffKind | "add-replace" | "delete-replace" | "update-replace";

/** pkg/resource/plugin/provider.go DiffResult. */
export interface DiffResult {
  /** "unknown": the provider has no Diff of its own and the engine compares inputs itself. */
  readonly changes: "none" | "some" | "unknown";
  readonly replaceKeys?: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  readonly detailedDiff?: Readonly<Record<string, DetailedKind>>;
}

/** The configuration of the provider instance a resource uses (explicit or default). */
export type ProviderConfig = Props;

export interface ResourceRequest {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly preview: boolean;
  readonly config: ProviderConfig;
}

export interface ResourceProvider {
  /** Defaults and auto-names; `olds` only when the resource exists and is not being replaced. */
  check?(r: ResourceRequest & { readonly olds?: Props; readonly news: Props }): Props;
  diff?(
    r: ResourceRequest & {
      readonly id: string;
      readonly olds: Props;
      readonly oldOutputs: Props;
      readonly news: Props;
      readonly ignoreChanges: readonly string[];
    },
  ): DiffResult;
  create(
    r: ResourceRequest & { readonly inputs: Props },
  ): Promise<{ readonly id: string; readonly outputs: Props }>;
  update(
    r: ResourceRequest & {
      readonly id: string;
      readonly olds: Props;
      readonly oldOutputs: Props;
      readonly news: Props;
    },
  ): Promise<Props>;
  delete(
    r: ResourceRequest & { readonly id: string; readonly inputs: Props; readonly outputs: Props },
  ): Promise<void>;
  /** Refresh. Absent: the provider has no Read and refresh changes nothing. */
  read?(
    r: ResourceRequest & { readonly id: string; readonly inputs: Props; readonly outputs: Props },
  ): Promise<{ readonly id: string; readonly outputs: Props } | undefined>;
}

export interface Package {
  readonly resources: Readonly<Record<string, ResourceProvider>>;
  readonly functions?: Readonly<
    Record<string, (args: Props, config: ProviderConfig) => Promise<Props>>
  >;
}

/** A provider step that failed: the engine stops as Pulumi does and names the resource. */
export class ProviderError extends Error {}
