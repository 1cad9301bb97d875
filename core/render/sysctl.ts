// sysctl.conf from the plan's kernel settings (core/plan/kernel.ts decides them).
import type { NodeModel } from "../plan/model";
import { header } from "./header";

export function renderSysctl(node: NodeModel): string {
  const lines = node.sysctl.map(([k, v]) => `${k} = ${v}`);
  return `${header(node, "Kernel settings")}\n${lines.join("\n")}${lines.length ? "\n" : ""}`;
}
