// Role files for hosts that are not NixOS (and for the lab): systemd units rendered from the
// plan's tables, the helpers they run, fail2ban's jail and apt's security updates. The NixOS
// modules read the same tables from node.json, and the same helper scripts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { K3sValue, NodeModel } from "../plan/model";
import { LIBEXEC, type Directives } from "../plan/roles";
import { header } from "./header";
import { VAULT_UNIT } from "../plan/files";
import { NIX_DIR } from "./nixos";

const helper = (name: string) => readFileSync(join(NIX_DIR, "clawd-mesh", name), "utf8");

function unit(node: NodeModel, what: string, sections: [string, Directives][]): string {
  const body = sections
    .map(([name, rows]) => [`[${name}]`, ...rows.map(([k, v]) => `${k}=${v}`)].join("\n"))
    .join("\n\n");
  return `${header(node, what)}\n${body}\n`;
}

function timer(node: NodeModel, what: string, calendar: string): string {
  return unit(node, what, [
    ["Unit", [["Description", what]]],
    [
      "Timer",
      [
        ["OnCalendar", calendar],
        ["Persistent", "true"],
      ],
    ],
    ["Install", [["WantedBy", "timers.target"]]],
  ]);
}

const WG_UNIT = (node: NodeModel) => `wg-quick@${node.wireguard.interface}.service`;

export function renderRoleFiles(node: NodeModel): Map<string, string> {
  const files = new Map<string, string>();
  if (node.ollama) {
    const host = `${node.ollama.host}:${node.ollama.port}`;
    files.set(
      "systemd/ollama.service.d/clawd-mesh.conf",
      unit(node, "Ollama on the mesh address", [
        [
          "Unit",
          [
            ["After", WG_UNIT(node)],
            ["Wants", WG_UNIT(node)],
          ],
        ],
        ["Service", [["Environment", `OLLAMA_HOST=${host}`]]],
      ]),
    );
    files.set(
      "systemd/clawd-mesh-ollama-models.service",
      unit(node, "Pulls the Ollama models this node keeps", [
        [
          "Unit",
          [
            ["Description", "Pull missing Ollama models"],
            ["After", "ollama.service"],
            ["Requires", "ollama.service"],
          ],
        ],
        [
          "Service",
          [
            ["Type", "oneshot"],
            ["Environment", `OLLAMA_HOST=${host}`],
            ["ExecStart", `${LIBEXEC}/ollama-models ${LIBEXEC}/ollama-models.txt`],
          ],
        ],
      ]),
    );
    files.set("libexec/ollama-models", helper("ollama-models.sh"));
    files.set("libexec/ollama-models.txt", `${node.ollama.models.join("\n")}\n`);
  }
  if (node.vault) {
    const v = node.vault;
    files.set(
      `systemd/${VAULT_UNIT}`,
      unit(node, "The Clavitor vault", [
        [
          "Unit",
          [
            ["Description", "Clavitor vault"],
            ["After", "network-online.target"],
            ["Wants", "network-online.target"],
            // The binary arrives later (vault-install): until then a restart starts nothing.
            ["ConditionPathExists", v.binary],
          ],
        ],
        ["Service", v.service],
        ["Install", [["WantedBy", "multi-user.target"]]],
      ]),
    );
    files.set(
      "systemd/clavitor-integrity.service",
      unit(node, "SQLite integrity check of the vault", [
        ["Unit", [["Description", "SQLite integrity check of the Clavitor vault"]]],
        ["Service", v.integrityService],
      ]),
    );
    files.set(
      "systemd/clavitor-integrity.timer",
      timer(node, "Vault integrity check timer", v.integrityCalendar),
    );
    files.set("libexec/vault-integrity-check", helper("vault-integrity-check.sh"));
  }
  if (node.k3s) {
    files.set("k3s/config.yaml", renderK3sConfig(node));
    if (node.k3s.snapshotSchedule) {
      files.set(
        "systemd/k3s-snapshot.service",
        unit(node, "Snapshot of the k3s datastore", [
          ["Unit", [["Description", "Snapshot of the k3s datastore"]]],
          [
            "Service",
            [
              ["Type", "oneshot"],
              ["ExecStart", `${LIBEXEC}/k3s-snapshot`],
            ],
          ],
        ]),
      );
      files.set(
        "systemd/k3s-snapshot.timer",
        timer(node, "Daily k3s snapshot timer", node.k3s.snapshotSchedule),
      );
      files.set("libexec/k3s-snapshot", helper("k3s-snapshot.sh"));
    }
  }
  const f2b = node.hardening.fail2ban;
  if (f2b) {
    files.set(
      "fail2ban/clawd-mesh-sshd.local",
      [
        header(node, "fail2ban's sshd jail"),
        "[sshd]",
        "enabled = true",
        `port = ${f2b.port}`,
        "backend = systemd",
        // The node's firewall is nftables; Debian's default action needs iptables, absent here.
        "banaction = nftables-multiport",
        `maxretry = ${f2b.maxretry}`,
        `findtime = ${f2b.findtime}`,
        `bantime = ${f2b.bantime}`,
        "",
      ].join("\n"),
    );
  }
  if (node.hardening.unattendedUpgrades) {
    files.set(
      "apt/20auto-upgrades",
      `${header(node, "Daily package lists and upgrades", "//")}\nAPT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n`,
    );
    files.set(
      "apt/52clawd-mesh-security-only",
      [
        header(node, "Unattended upgrades: security updates only", "//"),
        "#clear Unattended-Upgrade::Origins-Pattern;",
        "#clear Unattended-Upgrade::Allowed-Origins;",
        "Unattended-Upgrade::Allowed-Origins {",
        '        "${distro_id}:${distro_codename}-security";',
        "};",
        "",
      ].join("\n"),
    );
  }
  return files;
}

/** k3s reads its flags from /etc/rancher/k3s/config.yaml too: the plan's settings, as YAML. */
export function renderK3sConfig(node: NodeModel): string {
  const k = node.k3s;
  if (!k) return "";
  const config: Record<string, K3sValue> = Object.fromEntries(k.settings);
  config["token-file"] = k.tokenFile;
  if (k.serverUrl) config.server = k.serverUrl;
  return `${header(node, "k3s configuration")}\n${stringify(config)}`;
}
