// The drift check's own logic, no node needed: reading what the receiver prints, comparing it
// with the program's digest, the diff a reader sees, the report, and the exit statuses.
import { compareNode, fileChanges } from "../../core/drift/compare";
import { diffLines, unifiedLines } from "../../core/drift/diff";
import {
  DRIFT_EXIT,
  driftExitCode,
  pulumiUp,
  pushUrn,
  renderDriftReport,
} from "../../core/drift/report";
import { parseNodeState } from "../../core/drift/state";
import { urnOf } from "../../lab/engine/steps";
import { judge } from "../../operator/drift";

const DIGEST = "a".repeat(64);
const OTHER = "b".repeat(64);
const LIVE = [
  "## sshd -T",
  "port 22",
  "maxsessions 10",
  "permitrootlogin no",
  "## nft list table inet clawd_mesh",
  "table inet clawd_mesh {",
  "\tchain input {",
  '\t\tiifname "lo" accept',
  "\t}",
  "}",
  "## wg showconf wg0",
  "interface: ListenPort = 51820",
  "peer AAA=",
  "peer AAA=: AllowedIPs = 10.0.0.2/32",
  "## files",
  `${"1".repeat(64)}  /etc/ssh/sshd_config`,
  `${"2".repeat(64)}  /etc/ssh/authorized_keys.d/admin`,
];

function stateText(o: { digest?: string; recorded?: string[]; live?: string[]; pending?: string }) {
  return [
    "clawd-mesh-state 1",
    `digest ${o.digest ?? "none"}`,
    ...(o.pending ? [`pending ${o.pending}`] : []),
    "### recorded",
    ...(o.recorded ?? LIVE),
    "### live",
    ...(o.live ?? LIVE),
    "",
  ].join("\n");
}

const edited = (from: string, to: string) => LIVE.map((l) => (l === from ? to : l));

describe("diff", () => {
  test("an inserted and a changed line, with two lines of context and … between runs", () => {
    const before = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    const after = ["a", "b", "X", "d", "e", "f", "g", "h", "i", "j"];
    expect(diffLines(before, after).filter((l) => l.op !== " ")).toEqual([
      { op: "-", text: "c" },
      { op: "+", text: "X" },
      { op: "+", text: "j" },
    ]);
    expect(unifiedLines(before, after)).toEqual([
      "  a",
      "  b",
      "- c",
      "+ X",
      "  d",
      "  e",
      "…",
      "  h",
      "  i",
      "+ j",
    ]);
  });

  test("equal lines give no diff at all", () => {
    expect(unifiedLines(["a", "b"], ["a", "b"])).toEqual([]);
  });

  test("files: digests become changed, added and removed paths", () => {
    expect(
      fileChanges(
        [`${"1".repeat(64)}  /etc/a`, `${"2".repeat(64)}  /etc/b`, `${"3".repeat(64)}  /etc/c`],
        [`${"1".repeat(64)}  /etc/a`, `${"9".repeat(64)}  /etc/b`, `${"4".repeat(64)}  /etc/d`],
      ),
    ).toEqual(["changed: /etc/b", "removed: /etc/c", "added: /etc/d"]);
  });
});

describe("a node's state against the program", () => {
  test("the rendered digest and an untouched live state: clean", () => {
    const state = parseNodeState(stateText({ digest: DIGEST }));
    expect(state.live.get("sshd -T")).toEqual(["port 22", "maxsessions 10", "permitrootlogin no"]);
    expect(compareNode("ai", DIGEST, state)).toEqual({ node: "ai", kind: "clean" });
  });

  test("a hand edit of sshd_config: the sshd -T diff and the file that changed", () => {
    const live = edited("maxsessions 10", "maxsessions 3").map((l) =>
      l.endsWith("/etc/ssh/sshd_config") ? `${"7".repeat(64)}  /etc/ssh/sshd_config` : l,
    );
    expect(compareNode("ai", DIGEST, parseNodeState(stateText({ digest: DIGEST, live })))).toEqual({
      node: "ai",
      kind: "drifted",
      findings: [
        {
          what: "sshd -T",
          detail: ["  port 22", "- maxsessions 10", "+ maxsessions 3", "  permitrootlogin no"],
        },
        { what: "files", detail: ["changed: /etc/ssh/sshd_config"] },
      ],
    });
  });

  test("a rule added with nft and a peer's allowed IPs widened with wg", () => {
    const live = edited(
      '\t\tiifname "lo" accept',
      '\t\tiifname "lo" accept\n\t\ttcp dport 9999 accept',
    )
      .flatMap((l) => l.split("\n"))
      .map((l) =>
        l === "peer AAA=: AllowedIPs = 10.0.0.2/32" ? "peer AAA=: AllowedIPs = 0.0.0.0/0" : l,
      );
    const drift = compareNode("ai", DIGEST, parseNodeState(stateText({ digest: DIGEST, live })));
    expect(drift.kind === "drifted" && drift.findings).toEqual([
      {
        what: "nft list table inet clawd_mesh",
        detail: [
          "  \tchain input {",
          '  \t\tiifname "lo" accept',
          "+ \t\ttcp dport 9999 accept",
          "  \t}",
          "  }",
        ],
      },
      {
        what: "wg showconf wg0",
        detail: [
          "  interface: ListenPort = 51820",
          "  peer AAA=",
          "- peer AAA=: AllowedIPs = 10.0.0.2/32",
          "+ peer AAA=: AllowedIPs = 0.0.0.0/0",
        ],
      },
    ]);
  });

  test("another bundle, no record at all, and a push waiting for its confirmation", () => {
    const other = compareNode("ai", DIGEST, parseNodeState(stateText({ digest: OTHER })));
    expect(other).toEqual({
      node: "ai",
      kind: "drifted",
      findings: [
        {
          what: "bundle",
          detail: [
            `the node's last confirmed push installed bundle ${OTHER}; the program renders ${DIGEST}`,
          ],
        },
      ],
    });
    const none = compareNode("ai", DIGEST, parseNodeState(stateText({ recorded: [] })));
    expect(none.kind === "drifted" && none.findings).toEqual([
      {
        what: "bundle",
        detail: [
          "no confirmed push is recorded on the node (it was pushed before clawd-mesh recorded its pushes)",
        ],
      },
    ]);
    const pending = compareNode(
      "ai",
      DIGEST,
      parseNodeState(stateText({ digest: DIGEST, pending: "1700000000-42" })),
    );
    expect(pending.kind === "drifted" && pending.findings.map((f) => f.what)).toEqual(["push"]);
  });

  test("a receiver that predates drift checks is named as such", () => {
    expect(() => parseNodeState("")).toThrow(
      'the node\'s receiver answered "" instead of "clawd-mesh-state 1": it predates drift checks; push the node again to install a receiver that has them',
    );
  });
});

describe("answers over ssh", () => {
  const ok = { status: 0, stdout: stateText({ digest: DIGEST }), stderr: "" };
  test("ssh's own failure and a timeout are unreachable; a receiver's refusal is drift", () => {
    expect(judge("ai", DIGEST, ok)).toEqual({ node: "ai", kind: "clean" });
    expect(
      judge("ai", DIGEST, {
        status: 255,
        stdout: "",
        stderr: "ssh: connect to host 10.0.0.1 port 22: Connection timed out\n",
      }),
    ).toEqual({
      node: "ai",
      kind: "unreachable",
      reason:
        "ssh could not reach it (exit 255): ssh: connect to host 10.0.0.1 port 22: Connection timed out",
    });
    expect(judge("ai", DIGEST, { status: null, stdout: "", stderr: "", timedOut: true })).toEqual({
      node: "ai",
      kind: "unreachable",
      reason: "no answer over ssh in time",
    });
    expect(
      judge("ai", DIGEST, {
        status: 2,
        stdout: "",
        stderr:
          "clawd-mesh-receive: unknown command state (apply, confirm, kubeconfig, vault-install, vault-revert)\n",
      }),
    ).toEqual({
      node: "ai",
      kind: "drifted",
      findings: [
        {
          what: "receiver",
          detail: [
            "clawd-mesh-receive state exited 2: clawd-mesh-receive: unknown command state (apply, confirm, kubeconfig, vault-install, vault-revert)",
          ],
        },
      ],
    });
  });
});

describe("the report", () => {
  const urn = (node: string) => pushUrn("prod", "clawd-mesh", node);
  test("the push's URN is the one the engine gives it (Fleet, then MeshNode, then the push)", () => {
    const stack = urnOf("prod", "clawd-mesh", "pulumi:pulumi:Stack", "clawd-mesh-prod", "");
    const fleet = urnOf("prod", "clawd-mesh", "clawd-mesh:mesh:Fleet", "mesh", stack);
    const node = urnOf("prod", "clawd-mesh", "clawd-mesh:mesh:MeshNode", "tokyo", fleet);
    expect(urn("tokyo")).toBe(
      urnOf("prod", "clawd-mesh", "command:local:Command", "tokyo-push", node),
    );
  });

  test("drifted and unreachable nodes, the exact command that pushes only the drifted ones, and the exit status", () => {
    const results = [
      { node: "a", kind: "clean" as const },
      {
        node: "b",
        kind: "drifted" as const,
        findings: [{ what: "sshd -T", detail: ["- maxsessions 10", "+ maxsessions 3"] }],
      },
      { node: "c", kind: "unreachable" as const, reason: "ssh could not reach it (exit 255)" },
    ];
    expect(renderDriftReport("home", results, urn, pulumiUp("prod"))).toBe(
      [
        "drift home: 3 node(s) checked, 1 drifted, 1 unreachable",
        "a: as rendered",
        "b: DRIFTED",
        "  sshd -T:",
        "    - maxsessions 10",
        "    + maxsessions 3",
        "c: NOT CHECKED: ssh could not reach it (exit 255)",
        "",
        "Pushing a node again changes nothing Pulumi sees (its triggers are the bundle, the secrets and",
        "the machine), so replace the drifted nodes' pushes, and only theirs:",
        "  pulumi up --stack prod --replace 'urn:pulumi:prod::clawd-mesh::clawd-mesh:mesh:Fleet$clawd-mesh:mesh:MeshNode$command:local:Command::b-push'",
        "",
        "Not checked: c. Drift there is unknown; reach them over their management path and run this again.",
        "",
      ].join("\n"),
    );
    expect(driftExitCode(results)).toBe(DRIFT_EXIT.unreachable);
    expect(driftExitCode(results.slice(0, 2))).toBe(DRIFT_EXIT.drifted);
    expect(driftExitCode(results.slice(0, 1))).toBe(DRIFT_EXIT.clean);
    expect(new Set(Object.values(DRIFT_EXIT)).size).toBe(4);
  });
});
