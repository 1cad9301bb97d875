// One driver per provider, found through this table (the compiler holds it to the catalog's
// providers). A new provider is a file beside this one, a row here, and its regions and plans
// in core/fleet/catalog.ts.
import type { Provider } from "../../core/fleet/catalog";
import { awsDriver } from "./aws";
import { existingDriver } from "./existing";
import type { HostDriver } from "./types";
import { vultrDriver } from "./vultr";

export const HOST_DRIVERS: Record<Provider, HostDriver> = {
  vultr: vultrDriver,
  aws: awsDriver,
  existing: existingDriver,
};
