// The seam between the program and the engine: the resource monitor the Node SDK talks to.
// The SDK hands it the same RegisterResourceRequest it sends the real engine over gRPC
// (@pulumi/pulumi runtime/resource.js; the mock monitor in runtime/mocks.js shows the shape),
// so the engine sees exactly what `pulumi up` would: inputs in wire form, dependencies,
// property dependencies, parent, provider and every option.
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { MonitorTerminating, type Deployment } from "./deployment";
import type { AliasSpec, Goal } from "./steps";
import type { Props } from "./values";

type Callback<T> = (err: Error | null, response?: T) => void;

/* eslint-disable @typescript-eslint/no-explicit-any -- protobuf messages, read by their getters */
export class EngineMonitor {
  private readonly outstanding = new Set<Promise<unknown>>();

  constructor(private readonly deployment: Deployment) {}

  registerResource(req: any, callback: Callback<resproto.RegisterResourceResponse>): void {
    this.track(async () => {
      try {
        const goal = this.goalOf(req);
        const reply = await this.deployment.register(goal);
        const response = new resproto.RegisterResourceResponse();
        response.setUrn(reply.urn);
        response.setId(reply.id);
        response.setObject(Struct.fromJavaScript(reply.outputs as any));
        callback(null, response);
      } catch (error) {
        callback(asGrpcError(error));
      }
    });
  }

  registerResourceOutputs(req: any, callback: Callback<unknown>): void {
    const outputs = (req.getOutputs()?.toJavaScript() ?? {}) as Props;
    this.deployment.registerOutputs(req.getUrn(), outputs);
    callback(null, {});
  }

  readResource(req: any, callback: Callback<resproto.ReadResourceResponse>): void {
    this.track(async () => {
      try {
        const urn = this.deployment.urn(req.getType(), req.getName(), req.getParent());
        const outputs = await this.deployment.read(
          urn,
          req.getType(),
          req.getId(),
          (req.getProperties()?.toJavaScript() ?? {}) as Props,
        );
        const response = new resproto.ReadResourceResponse();
        response.setUrn(urn);
        response.setProperties(Struct.fromJavaScript(outputs as any));
        callback(null, response);
      } catch (error) {
        callback(asGrpcError(error));
      }
    });
  }

  invoke(req: any, callback: Callback<provproto.InvokeResponse>): void {
    this.track(async () => {
      try {
        const args = (req.getArgs()?.toJavaScript() ?? {}) as Props;
        const result = await this.deployment.invoke(req.getTok(), args, req.getProvider());
        const response = new provproto.InvokeResponse();
        response.setReturn(Struct.fromJavaScript(result as any));
        callback(null, response);
      } catch (error) {
        callback(asGrpcError(error));
      }
    });
  }

  /** The engine's capabilities: secrets, resource references, alias specs — no output values. */
  supportsFeature(req: any, callback: Callback<{ getHassupport(): boolean }>): void {
    const supported = ["secrets", "resourceReferences", "aliasSpecs", "deletedWith"];
    const has = supported.includes(req.getId());
    callback(null, { getHassupport: () => has });
  }

  /** Older engines have no GetDeploymentInfo; the SDK then asks feature by feature. */
  getDeploymentInfo(_req: unknown, callback: Callback<unknown>): void {
    callback(Object.assign(new Error("unimplemented"), { code: 12 }));
  }

  registerPackage(_req: unknown, callback: Callback<resproto.RegisterPackageResponse>): void {
    const response = new resproto.RegisterPackageResponse();
    response.setRef("lab-engine-package");
    callback(null, response);
  }

  /** The SDK closes its monitor client when it disconnects; there is no connection here. */
  close(): void {}

  /** Resolves when every request the program made has been answered. */
  async settled(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }

  private track(run: () => Promise<void>): void {
    const p = run();
    this.outstanding.add(p);
    void p.finally(() => this.outstanding.delete(p));
  }

  private goalOf(req: any): Goal {
    const type: string = req.getType();
    const name: string = req.getName();
    const parent: string = req.getParent();
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    return {
      urn: this.deployment.urn(type, name, parent),
      type,
      name,
      custom: req.getCustom(),
      parent,
      provider: req.getProvider(),
      inputs: (req.getObject()?.toJavaScript() ?? {}) as Props,
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      ...(req.hasProtect() && { protect: req.getProtect() }),
      ...(req.hasRetainondelete() && { retainOnDelete: req.getRetainondelete() }),
      ...((req.getDeletebeforereplacedefined() || req.getDeletebeforereplace()) && {
        deleteBeforeReplace: req.getDeletebeforereplace(),
      }),
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      aliases: [
        ...req.getAliasurnsList().map((urn: string): AliasSpec => ({ urn })),
        ...req.getAliasesList().map((a: any): AliasSpec => {
          if (a.getUrn()) return { urn: a.getUrn() };
          const spec = a.getSpec();
          return {
            ...(spec.getName() && { name: spec.getName() }),
            ...(spec.getType() && { type: spec.getType() }),
            ...(spec.getProject() && { project: spec.getProject() }),
            ...(spec.getStack() && { stack: spec.getStack() }),
            ...(spec.getParenturn() && { parentUrn: spec.getParenturn() }),
            ...(spec.getNoparent() && { noParent: true }),
          };
        }),
      ],
    };
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function asGrpcError(error: unknown): Error {
  if (error instanceof MonitorTerminating) return error;
  return error instanceof Error ? error : new Error(String(error));
}
