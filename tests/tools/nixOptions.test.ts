// node.json against the NixOS options that read it (nix/clawd-mesh/options.nix), with the real
// Nix evaluator and a stand-in for nixpkgs' lib (tests/helpers/nixOptions.nix): every field
// the node model carries has a typed, described option, so a new field without one fails
// here and not in nixos-rebuild on a node; the options' enums are the catalog's.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NIXOS_RELEASES, OSES, PROVIDERS, ROLES, TOPOLOGIES } from "../../core/fleet/catalog";
import { WG_KEY } from "../../core/fleet/checkAccess";
import { DNS_LABEL } from "../../core/fleet/report";
import { meshInputSets } from "../../core/plan/firewallSets";
import { nixosNodeDocument, renderNixos } from "../../core/render/nixos";
import { K3S_NODE_ROLES, type NodeModel } from "../../core/plan/model";
import { requireTools, runOk, tempDir } from "../helpers/run";
import { STACKS, stackSynthesis, writeFiles } from "../helpers/stacks";

requireTools("nix-instantiate");
const tmp = tempDir("nix-options");
afterAll(() => tmp.remove());

interface NixType {
  type: string;
  values?: unknown[];
  re?: string;
  elemType?: NixType;
  left?: NixType;
  right?: NixType;
  options?: Record<string, NixOption>;
}
interface NixOption {
  description: string | null;
  hasDefault: boolean;
  type: NixType;
}
interface Result {
  errors: string[];
  failed: string[];
}

const HELPER = join(__dirname, "..", "helpers", "nixOptions.nix");

const nixosNodes: [string, NodeModel][] = STACKS.flatMap((stack) =>
  stackSynthesis(stack)
    .plan.nodes.filter((n) => n.os === "nixos")
    .map((n): [string, NodeModel] => [`${stack}/${n.name}`, n]),
);
// The modules as a node gets them, catalog.json included.
const modules = join(tmp.path, "modules");
writeFiles(renderNixos(nixosNodes[0]![1]), modules);

type Json = Record<string, unknown>;
const documentOf = (name: string) =>
  JSON.parse(JSON.stringify(nixosNodeDocument(nixosNodes.find(([n]) => n === name)![1]))) as Json;

/** Evaluates documents against options.nix; the schema and one result per document. */
function evaluate(documents: readonly unknown[]): { schema: NixOption; results: Result[] } {
  const dir = join(tmp.path, `docs-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const files = documents.map((doc, i) => {
    const file = join(dir, `${i}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  });
  const expr = `import ${HELPER} {
    optionsFile = ${join(modules, "clawd-mesh", "options.nix")};
    documents = [ ${files.join(" ")} ];
  }`;
  const out = runOk("nix-instantiate", [
    "--eval",
    "--strict",
    "--json",
    "--readonly-mode",
    "-E",
    expr,
  ]);
  return JSON.parse(out) as { schema: NixOption; results: Result[] };
}

const stacks = evaluate(nixosNodes.map(([, n]) => nixosNodeDocument(n)));
const schema = stacks.schema;

/** Every option, by path; list elements and attribute values as `[]` and `<name>`. */
function optionPaths(option: NixOption, path: string): [string, NixOption][] {
  const inner = (t: NixType, p: string): [string, NixOption][] => {
    if (t.options)
      return Object.entries(t.options).flatMap(([k, o]) => optionPaths(o, `${p}.${k}`));
    if (t.type === "listOf" && t.elemType) return inner(t.elemType, `${p}[]`);
    if (t.type === "attrsOf" && t.elemType) return inner(t.elemType, `${p}.<name>`);
    if (t.type === "nullOr" && t.elemType) return inner(t.elemType, p);
    return [];
  };
  return [[path, option], ...inner(option.type, path)];
}

/** The option paths a document gives a value that is not null, [] or {}. */
function setPaths(value: unknown, t: NixType, path: string, into: Set<string>): void {
  if (value === null) return;
  if (Array.isArray(value) && value.length === 0) return;
  if (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) return;
  into.add(path);
  if (t.type === "nullOr" && t.elemType) return setPaths(value, t.elemType, path, into);
  if (t.type === "listOf" && t.elemType && Array.isArray(value)) {
    for (const v of value) setPaths(v, t.elemType, `${path}[]`, into);
  }
  if (t.options && typeof value === "object") {
    for (const [k, o] of Object.entries(t.options)) {
      setPaths((value as Json)[k], o.type, `${path}.${k}`, into);
    }
  }
}

describe.each(nixosNodes.map(([name], i) => [name, i] as const))("%s's node.json", (_, i) => {
  test("has an option for every field, of the right type, and holds the assertions", () => {
    expect(stacks.results[i]).toEqual({ errors: [], failed: [] });
  });
});

test("the stacks' NixOS nodes give every option a value, so every field is checked above", () => {
  // A field only a role sets is checked only if some NixOS node has the role: an option no
  // node sets here asks for a node in tests/helpers/fleets.ts (all-features) that sets it.
  const set = new Set<string>();
  for (const [, n] of nixosNodes) setPaths(nixosNodeDocument(n), schema.type, "node", set);
  const unset = optionPaths(schema, "node")
    .map(([p]) => p)
    .filter((p) => !set.has(p) && !p.includes("<name>"));
  expect(unset).toEqual([]);
});

test("every option is described", () => {
  const options = optionPaths(schema, "node");
  expect(options.length).toBeGreaterThan(90);
  expect(options.filter(([, o]) => !o.description).map(([p]) => p)).toEqual([]);
});

describe("a field, value or role the options do not know fails, naming its option", () => {
  const hub = "all-features/hub";
  const worker = "all-features/worker";
  const cases: [string, string, (doc: Json) => void, string][] = [
    [
      "a new top-level field",
      hub,
      (d) => (d.uptime = 3),
      "The option `clawdMesh.node.uptime' does not exist",
    ],
    [
      "a new firewall field",
      hub,
      (d) => ((d.firewall as Json).rateLimit = "10/second"),
      "The option `clawdMesh.node.firewall.rateLimit' does not exist",
    ],
    [
      "a new field of a WireGuard peer",
      hub,
      (d) => (((d.wireguard as Json).peers as Json[])[0]!.presharedKeyFile = "/k"),
      "The option `clawdMesh.node.wireguard.peers[0].presharedKeyFile' does not exist",
    ],
    [
      "a new k3s field",
      worker,
      (d) => ((d.k3s as Json).nodeName = "w"),
      "The option `clawdMesh.node.k3s.nodeName' does not exist",
    ],
    [
      "a field left out",
      hub,
      (d) => delete d.sysctl,
      "The option `clawdMesh.node.sysctl' is used but not defined",
    ],
    [
      "a provider not in the catalog",
      hub,
      (d) => (d.provider = "hetzner"),
      'clawdMesh.node.provider: "hetzner" is not a valid enum',
    ],
    [
      "a port out of range",
      worker,
      (d) => ((d.ollama as Json).port = 70000),
      "clawdMesh.node.ollama.port: 70000 is not a valid port",
    ],
    [
      "a rule's protocol nft does not know",
      hub,
      (d) => ((((d.firewall as Json).meshInput as Json[])[0]!.match as Json).kind = "sctp"),
      'clawdMesh.node.firewall.meshInput[0].match.kind: "sctp" is not a valid enum',
    ],
  ];
  const results = evaluate(
    cases.map(([, node, change]) => {
      const doc = documentOf(node);
      change(doc);
      return doc;
    }),
  ).results;

  test.each(cases.map(([what, , , error], i) => [what, error, i] as const))("%s", (_, error, i) => {
    expect(results[i]!.errors).toEqual([error]);
  });
});

test("the assertions refuse a k3s agent that names no server, and Ollama without its role", () => {
  const agent = documentOf("all-features/worker");
  (agent.k3s as Json).serverUrl = null;
  const ollama = documentOf("all-features/worker");
  ollama.roles = (ollama.roles as string[]).filter((r) => r !== "ollama");
  const [a, b] = evaluate([agent, ollama]).results;
  expect(a).toEqual({
    errors: [],
    failed: ["clawd-mesh: worker: a k3s agent names the server it joins, and only an agent does."],
  });
  expect(b).toEqual({
    errors: [],
    failed: ["clawd-mesh: worker: Ollama settings are there exactly when the ollama role is."],
  });
});

test("the options' enums are the vocabularies of core/fleet/catalog.ts and the plan", () => {
  const options = new Map(optionPaths(schema, "node"));
  const values = (path: string) => {
    let t = options.get(path)?.type;
    while (t && t.type !== "enum") t = t.elemType;
    return t?.values;
  };
  expect(values("node.provider")).toEqual([...PROVIDERS]);
  expect(values("node.roles")).toEqual([...ROLES]);
  expect(values("node.mesh.topology")).toEqual([...TOPOLOGIES]);
  // The modules are NixOS's: of the catalog's OSes, only it.
  expect(values("node.os")).toEqual(["nixos"]);
  expect(OSES).toContain("nixos");
  expect(values("node.k3s.role")).toEqual([...K3S_NODE_ROLES]);
  // What firewallSets.ts's rules match: its PortGroup is a type only, so the kinds the stacks'
  // rules use stand for it (the documents above are checked against the enum).
  const kinds = nixosNodes.flatMap(([, n]) =>
    [...meshInputSets(n.firewall), ...n.firewall.meshForward].map((r) => r.match.kind),
  );
  for (const path of [
    "node.firewall.meshInput[].match.kind",
    "node.firewall.meshForward[].match.kind",
  ])
    expect(values(path)).toEqual(["tcp", "udp", "ping"].filter((k) => kinds.includes(k as never)));
  expect(values("node.nixos.nixpkgs.release")).toEqual(Object.keys(NIXOS_RELEASES));
});

test("names and keys are checked with the fleet's own patterns", () => {
  const options = new Map(optionPaths(schema, "node"));
  // builtins.match matches the whole string: the TypeScript pattern without its anchors.
  const unanchored = (re: RegExp) => re.source.replace(/^\^/, "").replace(/\$$/, "");
  for (const path of ["node.name", "node.wireguard.peers[].name"])
    expect([path, options.get(path)?.type.re]).toEqual([path, unanchored(DNS_LABEL)]);
  expect(options.get("node.wireguard.peers[].publicKey")?.type.re).toBe(unanchored(WG_KEY));
});
