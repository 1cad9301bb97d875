// The bundle's `manifest`: core/plan/files.ts's table, one row a line, for the push scripts.
// Fields are single words (paths and names were validated to hold no blanks): phase, kind,
// source, destination, mode, check ("-": none) and the unit actions ("-": none, else
// unit:action pairs joined by commas).
import { placeFiles } from "../plan/files";
import type { NodeModel } from "../plan/model";
import { header } from "./header";

export function renderManifest(node: NodeModel, bundlePaths: readonly string[]): string {
  const rows = placeFiles(node, [...bundlePaths, "manifest"]).map((r) =>
    [
      r.phase,
      r.kind,
      r.source,
      r.destination,
      r.mode,
      r.check ?? "-",
      r.onChange.length > 0
        ? r.onChange.map(([unit, action]) => `${unit}:${action}`).join(",")
        : "-",
    ].join(" "),
  );
  for (const r of rows) {
    if (r.split(" ").length !== 7) throw new Error(`manifest row with a blank in a field: ${r}`);
  }
  return `${header(node, "The manifest (where each file of the push lands)")}\n# phase kind source destination mode check on-change\n${rows.join("\n")}\n`;
}
