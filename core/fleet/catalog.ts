// The closed vocabularies of a fleet spec. Kept in one place so validation, the docs and the
// provider code agree on what a word means.

export const PROVIDERS = ["vultr", "aws", "existing"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const OSES = ["nixos", "ubuntu", "debian", "alpine"] as const;
export type Os = (typeof OSES)[number];

export const ROLES = ["hub", "entry", "ollama", "vault", "k3s-server", "k3s-agent"] as const;
export type Role = (typeof ROLES)[number];

export const TOPOLOGIES = ["hub-spoke", "full-mesh"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/**
 * NixOS releases the modules in nix/ are written for (their option names), with the last day
 * the release gets security fixes. A stack's nixpkgs pin must be on one of these branches.
 */
export const NIXOS_RELEASES = {
  "26.05": { supportedUntil: "2026-12-31" },
} as const;
export type NixosRelease = keyof typeof NIXOS_RELEASES;

/**
 * The release new hosts are installed with, and so the stateVersion of a node that names none.
 * Moving it moves the stateVersion of every node that relies on it: nodes that exist name
 * theirs in the stack file instead (see "NixOS releases" in the README).
 */
export const NIXOS_RELEASE: NixosRelease = "26.05";

/** The nixpkgs branch of a release, as the NixOS channels and the GitHub repository name it. */
export const nixosBranch = (release: string) => `nixos-${release}`;

export const OLLAMA_PURPOSES = ["coding", "general", "heavy"] as const;
export type OllamaPurpose = (typeof OLLAMA_PURPOSES)[number];

/** Vultr region ids as the Vultr API lists them (32 regions). */
export const VULTR_REGIONS = [
  "ams", "atl", "blr", "bom", "cdg", "del", "dfw", "ewr", "fra", "hnl", "icn", "itm", "jnb",
  "lax", "lhr", "mad", "man", "mel", "mex", "mia", "nrt", "ord", "sao", "scl", "sea", "sgp",
  "sjc", "sto", "syd", "tlv", "waw", "yto",
] as const; // prettier-ignore

/** AWS commercial regions (GovCloud and China need separate accounts and are left out). */
export const AWS_REGIONS = [
  "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
  "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
  "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
  "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
  "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
] as const; // prettier-ignore

/** Ports that must never be public by accident: each needs an explicit `allowPublic` word. */
export const OLLAMA_PORT = 11434;
export const K3S_API_PORT = 6443;
/** The kubelet's API (TCP): exec into any pod on the node. */
export const KUBELET_PORT = 10250;
/** flannel's VXLAN (UDP): its interface is trusted, so a packet here is a packet inside the cluster. */
export const FLANNEL_VXLAN_PORT = 8472;
export const SENSITIVE_EXPOSURES = ["ssh", "ollama", "k3s-api", "kubelet", "flannel"] as const;
export type SensitiveExposure = (typeof SENSITIVE_EXPOSURES)[number];
/** What the vault and the k3s server serve publicly (the vault's TLS, the ingress). */
export const WEB_PORTS = [80, 443] as const;

/** The project's own directories on a node: its state (pushes, snapshots) and its helpers. */
export const STATE_DIR = "/var/lib/clawd-mesh";
export const LIBEXEC = "/usr/local/lib/clawd-mesh";
export const SECRETS_DIR = "/etc/clawd-mesh";
/** The vault's service account and binary (seed 001). */
export const VAULT_USER = "clavitor";
export const VAULT_BINARY = "/opt/clavitor/clavitor";
/** Ollama's installer (and NixOS) run it as this account. */
export const OLLAMA_USER = "ollama";

export const WG_INTERFACE = "wg0";
/** Where every node keeps its WireGuard private key (mode 0600, never in the Nix store). */
export const WG_KEY_FILE = "/etc/wireguard/wg0.key";
export const PERSISTENT_KEEPALIVE = 25;

/** k3s defaults from seed 003; the mesh must not overlap them. */
export const K3S_CLUSTER_CIDR = "10.42.0.0/16";
export const K3S_SERVICE_CIDR = "10.43.0.0/16";
