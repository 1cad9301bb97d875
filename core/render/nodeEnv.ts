// node.env: the facts the push scripts read about their node. Every value was validated
// to be a plain word or address, and is single-quoted anyway.
import type { NodeModel } from "../plan/model";
import { K3S_API_PORT } from "../fleet/catalog";
import { header } from "./header";
import { NFT_TABLE } from "./nftables";
import { initSystemOf, OS_PROFILES, packagesOf } from "../plan/osProfile";
import { nodePaths, VAULT_UNIT } from "../plan/files";
import { K3S_DATA_DIR } from "../plan/k3s";

export function renderNodeEnv(node: NodeModel): string {
  const paths = nodePaths(node);
  const hub = node.wireguard.peers.find((p) => p.name === node.wireguard.hub);
  const values: [string, string][] = [
    ["NODE_NAME", node.name],
    ["NODE_OS", node.os],
    // The init system the OS boots; the scripts fall back to none only where it is not
    // running (a host started without it: a container, the lab's init-less hosts).
    ["INIT_SYSTEM", initSystemOf(node.os)],
    ["MESH_IP", node.meshIp],
    ["WG_INTERFACE", node.wireguard.interface],
    ["SSH_PORT", String(node.ssh.port)],
    ["ADMIN_USER", node.ssh.adminUser],
    // A spoke proves its tunnel by a handshake with the hub; others by any handshake.
    ["HANDSHAKE_PEER", hub?.publicKey ?? ""],
    ["ROLES", node.roles.join(" ")],
    ["NFT_TABLE", NFT_TABLE],
    ["WG_CONF", paths.wgConf],
    ["WG_KEY", paths.wgKey],
    ["RECEIVER", paths.receiver],
    ...(node.os === "nixos"
      ? ([["NIXOS_CONFIG", paths.nixosConfig]] as [string, string][])
      : ([
          ["SSHD_CONFIG", paths.sshdConfig],
          ["SYSCTL_FILE", paths.sysctlFile],
          ["NFT_FILE", paths.nftFile],
          ["PACKAGES", packagesOf(node).join(" ")],
          ["PACKAGE_MANAGER", OS_PROFILES[node.os].packageManager],
          ["ACCOUNT_TOOLS", OS_PROFILES[node.os].accounts],
          ["NOLOGIN_SHELL", OS_PROFILES[node.os].nologin],
        ] as [string, string][])),
    ...(node.vault
      ? ([
          ["VAULT_BINARY", node.vault.binary],
          ["VAULT_DATA_DIR", node.vault.dataDir],
          ["VAULT_USER", node.vault.user],
          ["VAULT_HEALTH_URL", node.vault.healthUrl],
          ["VAULT_UNIT", VAULT_UNIT],
          ["VAULT_ENV_FILE", node.vault.environmentFile],
        ] as [string, string][])
      : []),
    // What the confirmation asks of each role that answered before the switch.
    ...(node.ollama
      ? ([["OLLAMA_HEALTH_URL", `http://${node.ollama.host}:${node.ollama.port}/api/tags`]] as [
          string,
          string,
        ][])
      : []),
    ...(node.k3s?.role === "server"
      ? ([
          ["K3S_HEALTH_URL", `https://127.0.0.1:${K3S_API_PORT}/readyz`],
          // What a rotated join token is handed over with (apply.sh, k3s_take_token): the
          // token file the push installs, and k3s's own record of the token it runs with.
          ["K3S_SUPERVISOR_URL", `https://127.0.0.1:${K3S_API_PORT}`],
          ["K3S_TOKEN_FILE", node.k3s.tokenFile],
          ["K3S_SERVER_TOKEN", `${K3S_DATA_DIR}/server/token`],
          ["K3S_SERVER_CA", `${K3S_DATA_DIR}/server/tls/server-ca.crt`],
        ] as [string, string][])
      : []),
    // NixOS: the pinned tree apply.sh fetches, checks and builds from (no channel is read).
    ...(node.nixos
      ? ([
          ["NIXPKGS_BRANCH", node.nixos.nixpkgs.branch],
          ["NIXPKGS_REV", node.nixos.nixpkgs.rev],
          ["NIXPKGS_URL", node.nixos.nixpkgs.url],
          ["NIXPKGS_SHA256", node.nixos.nixpkgs.sha256],
        ] as [string, string][])
      : []),
  ];
  return `${header(node, "Facts for the push scripts")}\n${values
    .map(([k, v]) => `${k}='${v}'`)
    .join("\n")}\n`;
}
