// Stand-ins for what cannot run in the lab (no Ollama, k3s or vault binaries here): small
// servers bound exactly where the real ones would be, so the firewall and the push around
// them are tested for real. Each one says it is a stand-in when asked.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LabHost } from "./host";
import type { Lab } from "./lab";
import { must } from "./exec";
import { LAB_ROOT } from "./state";

// k3s's supervisor as far as the push meets it (k3s's pkg/server/handlers: router.go, token.go;
// pkg/server/auth.go): HTTPS with its own CA; /readyz wants credentials. The server token is
// recorded in server/token as K10<CA hash>::server:<password>, taken from the configured token
// file at the first start; a later start with another token in that file fails (the
// datastore is encrypted with the recorded one). Credentials are checked against the password
// read at the start, until the next: a PUT of {"newToken"} to /v1-k3s/token, as "server",
// records the new token (agents, which share it, with it) and leaves the running check as it
// was. Any other /v1-k3s/ request is a node joining: user "node". Not modelled: the datastore.
const K3S_DIR = "/var/lib/rancher/k3s/server";
const K3S_TLS = `${K3S_DIR}/tls`;
/** The stand-in's own log of rotation requests (not k3s's). */
export const K3S_REQUESTS = `${K3S_DIR}/lab-token-requests`;
const K3S_STAND_IN = `
// STAND_IN_ROOT: where k3s's folders are, for a test outside a lab host ("/" in one).
const ROOT = process.env.STAND_IN_ROOT || "";
const K3S_TLS = ROOT + "${K3S_TLS}";
const RECORD = ROOT + "${K3S_DIR}/token";
const REQUESTS = ROOT + "${K3S_REQUESTS}";
const caHash = () => require("node:crypto").createHash("sha256").update(fs.readFileSync(K3S_TLS + "/server-ca.crt")).digest("hex");
const record = (token) => fs.writeFileSync(RECORD, "K10" + caHash() + "::server:" + token + "\\n", { mode: 0o600 });
const recorded = () => read(RECORD).replace(/^.*::server:/, "");
const configured = () => {
  const file = (read(ROOT + "/etc/rancher/k3s/config.yaml").match(/^token-file: *"?([^"\\n]+)"?$/m) || [])[1];
  return file ? read(file) : "";
};
// The password checked until the next start ("" until a token is configured at all).
let password = "";
if (kind === "k3s" && recorded()) {
  if (configured() && configured() !== recorded()) {
    console.error("bootstrap data already found and encrypted with different token");
    process.exit(1);
  }
  password = recorded();
}
const checked = () => {
  if (!password && !recorded() && configured()) {
    record(configured());
    password = configured();
  }
  return password;
};
const credentials = (req) => {
  const m = /^Basic (.+)$/.exec(req.headers.authorization || "");
  const text = m ? Buffer.from(m[1], "base64").toString() : "";
  const at = text.indexOf(":");
  return at < 0 ? null : { user: text.slice(0, at), password: text.slice(at + 1) };
};
const k3s = (req, res) => {
  const path = req.url.split("?")[0];
  if (path !== "/readyz" && !path.startsWith("/v1-k3s/")) return false;
  const who = credentials(req);
  const token = checked();
  const user = path === "/v1-k3s/token" ? "server" : "node";
  // Every rotation request, as the lab's tests count them: method, user, and whether let in.
  if (path === "/v1-k3s/token") {
    const let_in = who && token && who.user === user && who.password === token;
    fs.appendFileSync(REQUESTS, req.method + " " + (who ? who.user : "-") + " " + (let_in ? "in" : "refused") + "\\n");
  }
  if (!who || !token || who.user !== user || who.password !== token) {
    json(res, 401, { message: "Unauthorized" });
    return true;
  }
  if (path !== "/v1-k3s/token") {
    json(res, 200, { standIn: "k3s", joined: who.user });
    return true;
  }
  if (req.method !== "PUT") {
    json(res, 405, { message: "method not allowed" });
    return true;
  }
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    let next = "";
    try { next = JSON.parse(body).newToken || ""; } catch {}
    if (!next) return json(res, 400, { message: "no newToken" });
    record(next);
    res.writeHead(200);
    res.end();
  });
  return true;
};
`;

const SERVER = `
const http = require("node:http");
const https = require("node:https");
const fs = require("node:fs");
const [host, port, kind, version] = process.argv.slice(2);
const read = (file) => { try { return fs.readFileSync(file, "utf8").trim(); } catch { return ""; } };
const json = (res, code, body) => {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
${K3S_STAND_IN}
const handler = (req, res) => {
  if (kind === "k3s" && k3s(req, res)) return;
  // A node told to reject this version (the lab's fault injection) fails its health check.
  const sick = kind === "vault" && read("/var/lib/clavitor/lab-unhealthy") === version;
  json(res, sick ? 503 : 200, { standIn: kind, version, healthy: !sick });
};
(kind === "k3s"
  ? https.createServer({ key: fs.readFileSync(K3S_TLS + "/serving.key"), cert: fs.readFileSync(K3S_TLS + "/server-ca.crt") }, handler)
  : http.createServer(handler)
).listen(Number(port), host);
`;

/** Waits (up to 10 s) until something in the host listens on the port; the server starts detached. */
function listening(host: LabHost, port: number): void {
  host.run("sh", [
    "-c",
    `for i in $(seq 50); do [ -n "$(ss -Htln "sport = :${port}")" ] && exit 0; sleep 0.2; done; ` +
      `echo "nothing listens on ${port} after 10 s" >&2; exit 1`,
  ]);
}

/** The stand-ins' server, as a script for Node: `node server.js HOST PORT KIND VERSION`. */
export function standInServer(): string {
  return SERVER;
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
 * The CA k3s makes at its first start, which also serves its supervisor port on loopback:
 * server-ca.crt and serving.key in `dir` (k3s's server/tls).
 */
export function k3sCertificate(dir: string): void {
  must("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "30",
    "-subj",
    "/CN=k3s-stand-in",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    join(dir, "serving.key"),
    "-out",
    join(dir, "server-ca.crt"),
  ]);
}

/**
 * The software a role brings that the lab cannot run, stood in for on a host from its first
 * boot, as an image or the push would install it: a k3s server's API port and the kubeconfig
 * k3s writes (which the program reads back after its push).
 */
export function installRoleSoftware(host: LabHost, roles: readonly string[]): void {
  if (!roles.includes("k3s-server")) return;
  mkdirSync(host.path("/etc/rancher/k3s"), { recursive: true });
  writeFileSync(host.path("/etc/rancher/k3s/k3s.yaml"), K3S_KUBECONFIG, { mode: 0o600 });
  mkdirSync(host.path(K3S_TLS), { recursive: true, mode: 0o700 });
  k3sCertificate(host.path(K3S_TLS));
  const command = `${process.execPath} ${serverFile()} 0.0.0.0 6443 k3s 0`;
  if (host.init === "systemd") {
    // A unit under k3s's own name: the push's restart of k3s restarts the stand-in.
    const unit = `[Unit]\nDescription=k3s (lab stand-in)\n\n[Service]\nExecStart=${command}\n\n[Install]\nWantedBy=multi-user.target\n`;
    writeFileSync(host.path("/etc/systemd/system/k3s.service"), unit);
    host.run("systemctl", ["daemon-reload"]);
    host.run("systemctl", ["enable", "--now", "--quiet", "k3s.service"]);
  } else {
    host.run("sh", ["-c", `setsid ${command} </dev/null >/dev/null 2>&1 &`]);
  }
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
