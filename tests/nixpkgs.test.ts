// One pinned nixpkgs per stack: every NixOS node's rendered configuration names exactly the
// stack's pin (node.json for the modules, node.env for the push scripts), and no other
// node carries it.
import { loadStackFleet } from "../core/fleet/load";
import type { Raw } from "./helpers/fleets";
import { PROJECT_DIR, STACKS, stackSynthesis, type StackName } from "./helpers/stacks";

const cases = STACKS.flatMap((stack) =>
  stackSynthesis(stack).plan.nodes.map((n): [StackName, string, string] => [stack, n.name, n.os]),
);

describe.each(cases)("%s/%s (%s)", (stack, name, os) => {
  const file = (path: string) => stackSynthesis(stack).files.get(`nodes/${name}/${path}`);
  const pin = () => stackSynthesis(stack).fleet.nixpkgs;

  if (os === "nixos") {
    test("node.json names the stack's pin, and the node's own stateVersion", () => {
      const node = JSON.parse(file("node.json") ?? "{}");
      const spec = stackSynthesis(stack).fleet.nodes.find((n) => n.name === name);
      expect(node.nixos).toEqual({ stateVersion: spec?.nixosStateVersion, nixpkgs: pin() });
    });

    test("the push scripts read the same pin from node.env", () => {
      const env = file("node.env") ?? "";
      expect(env.split("\n").filter((l) => l.startsWith("NIXPKGS_"))).toEqual([
        `NIXPKGS_BRANCH='${pin()?.branch}'`,
        `NIXPKGS_REV='${pin()?.rev}'`,
        `NIXPKGS_URL='${pin()?.url}'`,
        `NIXPKGS_SHA256='${pin()?.sha256}'`,
      ]);
    });

    test("its modules take nixpkgs from node.json, never from a channel", () => {
      expect(file("clawd-mesh/default.nix")).toContain("./nixpkgs.nix");
      const module = file("clawd-mesh/nixpkgs.nix") ?? "";
      expect(module).toContain(
        'builtins.fetchTarball { name = "source"; inherit (pin) url sha256; }',
      );
      expect(file("clawd-mesh/lib.nix")).toContain("channel.enable = false;");
    });
  } else {
    test("carries no pin", () => {
      expect(file("node.json")).toBeUndefined();
      expect(file("node.env")).not.toContain("NIXPKGS_");
    });
  }
});

test("the stack files pin nixos-26.05 and name every NixOS node's stateVersion", () => {
  for (const stack of STACKS.filter((s) => s !== "all-features")) {
    const raw = loadStackFleet(PROJECT_DIR, stack) as Raw;
    const nixos = raw.nodes.filter((n: Raw) => n.os === "nixos");
    // The default moves with the release new hosts get; a host that exists must not move.
    expect(nixos.filter((n: Raw) => n.nixosStateVersion === undefined)).toEqual([]);
    expect([stack, raw.nixpkgs?.branch]).toEqual([
      stack,
      nixos.length > 0 ? "nixos-26.05" : undefined,
    ]);
  }
});
