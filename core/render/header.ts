import type { NodeModel } from "../plan/model";

/** The first lines of every rendered file: what it is and that the next push overwrites it. */
export function header(node: NodeModel, what: string, comment = "#"): string {
  return [
    `${comment} ${what} of node ${node.name} in mesh ${node.mesh.name}.`,
    `${comment} Written by clawd-mesh; the next push overwrites local edits.`,
  ].join("\n");
}
