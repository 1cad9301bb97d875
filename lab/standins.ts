// Stand-ins for what cannot run in the lab (no Ollama, k3s or vault binaries here): small
// servers bound exactly where the real ones would be, so the firewall and the push around
// them are tested for real. Each one says it is a stand-in when asked.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LabHost } from "./host";
import type { Lab } from "./lab";
import { LAB_ROOT } from "./state";

const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const [host, port, kind, version] = process.argv.slice(2);
http.createServer((req, res) => {
  // A node told to reject this version (the lab's fault injection) fails its health check.
  let reject = "";
  try { reject = fs.readFileSync("/var/lib/clavitor/lab-unhealthy", "utf8").trim(); } catch {}
  const sick = kind === "vault" && reject === version;
  res.writeHead(sick ? 503 : 200, { "content-type": "application/json" });
  res.end(JSON.stringify({ standIn: kind, version, healthy: !sick }));
}).listen(Number(port), host);
`;

/** Waits (up to 10 s) until something in the host listens on the port; the server starts detached. */
function listening(host: LabHost, port: number): void {
  host.run("sh", [
    "-c",
    `for i in $(seq 50); do [ -n "$(ss -Htln "sport = :${port}")" ] && exit 0; sleep 0.2; done; ` +
      `echo "nothing listens on ${port} after 10 s" >&2; exit 1`,
  ]);
}

function serverFile(): string {
  const dir = join(LAB_ROOT, "standins");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "server.js");
  writeFileSync(file, SERVER);
  return file;
}

/** Ollama's API where Ollama would listen (OLLAMA_HOST), on every node with the role. */
export function startOllama(lab: Lab): string[] {
  const server = serverFile();
  return lab.synthesis().plan.nodes.flatMap((node) => {
    if (!node.ollama) return [];
    const host = lab.nodeHost(node.name);
    if (!host) return [];
    host.run("sh", [
      "-c",
      `setsid ${process.execPath} ${server} ${node.ollama.host} ${node.ollama.port} ollama 0 </dev/null >/dev/null 2>&1 &`,
    ]);
    listening(host, node.ollama.port);
    return [node.name];
  });
}

/** A kubeconfig as k3s writes its own: cluster-admin, on the loopback address. */
const K3S_KUBECONFIG = [
  "apiVersion: v1",
  "clusters:",
  "- cluster:",
  "    certificate-authority-data: TEFCIFNUQU5ELUlO",
  "    server: https://127.0.0.1:6443",
  "  name: default",
  "kind: Config",
  "",
].join("\n");

/**
 * The software a role brings that the lab cannot run, stood in for on a host from its first
 * boot, as an image or the push would install it: a k3s server's API port and the kubeconfig
 * k3s writes (which the program reads back after its push).
 */
export function installRoleSoftware(host: LabHost, roles: readonly string[]): void {
  if (!roles.includes("k3s-server")) return;
  mkdirSync(host.path("/etc/rancher/k3s"), { recursive: true });
  writeFileSync(host.path("/etc/rancher/k3s/k3s.yaml"), K3S_KUBECONFIG, { mode: 0o600 });
  host.run("sh", [
    "-c",
    `setsid ${process.execPath} ${serverFile()} 0.0.0.0 6443 k3s 0 </dev/null >/dev/null 2>&1 &`,
  ]);
  listening(host, 6443);
}

/** k3s's API port on the k3s server, bound to every address as k3s binds it. */
export function startK3sApi(lab: Lab): string[] {
  return lab
    .synthesis()
    .plan.nodes.flatMap((node) =>
      node.k3s?.role === "server" && lab.nodeHost(node.name) ? [node.name] : [],
    );
}

export interface VaultBinary {
  readonly path: string;
  readonly sha256: string;
  readonly version: string;
}

/** A "vault binary" for the lab: a script whose content is its version, serving /health on 80. */
export function vaultBinary(version: string): VaultBinary {
  const server = serverFile();
  const content = `#!/bin/sh\n# Lab stand-in for the vault binary, version ${version}.\nexec ${process.execPath} ${server} 0.0.0.0 80 vault ${version}\n`;
  const path = join(LAB_ROOT, "standins", `vault-${version}`);
  writeFileSync(path, content);
  chmodSync(path, 0o755);
  return { path, version, sha256: createHash("sha256").update(content).digest("hex") };
}
