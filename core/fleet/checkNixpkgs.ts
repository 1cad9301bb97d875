// The stack's nixpkgs pin: one commit of a NixOS release branch, with the hash of its tree.
// Every NixOS node builds from exactly that tree, so an upgrade is a change to these lines.
import { NIXOS_RELEASE, NIXOS_RELEASES, nixosBranch, type NixosRelease } from "./catalog";
import type { NixpkgsPin } from "./fleet";
import { parseSha256, toNixBase32, toSri } from "../crypto/nixHash";
import type { Report } from "./report";
import type { NixpkgsInput } from "./schema";

export const NIXPKGS_REPOSITORY = "https://github.com/NixOS/nixpkgs";

/** GitHub's archive of a commit; its unpacked tree is what the sha256 covers. */
export const nixpkgsUrl = (rev: string) => `${NIXPKGS_REPOSITORY}/archive/${rev}.tar.gz`;

const knownReleases = Object.keys(NIXOS_RELEASES) as NixosRelease[];
const branches = () => knownReleases.map(nixosBranch).join(", ");

/** Reports what is wrong with a pin and returns it when nothing is. */
export function checkNixpkgs(r: Report, input: NixpkgsInput): NixpkgsPin | undefined {
  const path = "fleet.nixpkgs";
  const before = r.problems.length;
  const release = /^nixos-(\d{2}\.\d{2})$/.exec(input.branch)?.[1];
  if (release === undefined) {
    r.add(
      `${path}.branch`,
      input.branch,
      "is not a NixOS release branch",
      `use ${nixosBranch(NIXOS_RELEASE)}: a stable release gets security fixes, unstable does not`,
    );
  } else if (!knownReleases.includes(release as NixosRelease)) {
    r.add(
      `${path}.branch`,
      input.branch,
      "is a release the NixOS modules of this program are not written for",
      `use ${branches()}`,
    );
  }
  const branch = release === undefined ? nixosBranch(NIXOS_RELEASE) : input.branch;
  const revOk = /^[0-9a-f]{40}$/.test(input.rev);
  if (!revOk) {
    r.add(
      `${path}.rev`,
      input.rev,
      "is not a full commit id",
      `write the 40 lowercase hex digits of a commit on ${branch} (git ls-remote ${NIXPKGS_REPOSITORY} refs/heads/${branch} prints the newest)`,
    );
  }
  const digest = parseSha256(input.sha256);
  if (!digest) {
    r.add(
      `${path}.sha256`,
      input.sha256,
      'is not a sha256 in Nix base32 (52 characters) or SRI ("sha256-" and 44 base64 characters) form',
      `write what nix-prefetch-url --unpack ${nixpkgsUrl(revOk ? input.rev : "<rev>")} prints`,
    );
  }
  if (r.problems.length !== before || !digest) return undefined;
  return {
    branch: input.branch,
    release: release as NixosRelease,
    rev: input.rev,
    url: nixpkgsUrl(input.rev),
    sha256: toNixBase32(digest),
    narHash: toSri(digest),
  };
}

/** A fleet with NixOS nodes and no pin: every one of them would read its host's channel. */
export function reportMissingPin(r: Report, nixosNodes: number): void {
  r.add(
    "fleet.nixpkgs",
    undefined,
    `is required: ${nixosNodes} ${nixosNodes === 1 ? "node runs" : "nodes run"} NixOS, and every NixOS node builds from this one pinned nixpkgs`,
    `add nixpkgs: { branch: ${nixosBranch(NIXOS_RELEASE)}, rev, sha256 } (see "One pinned nixpkgs" in the README)`,
  );
}

/**
 * A host's stateVersion is the release it was installed with, so it can be older than the
 * release it runs, never newer.
 */
export function checkStateVersion(
  r: Report,
  path: string,
  stateVersion: string,
  pin: NixpkgsPin,
): void {
  if (stateVersion > pin.release) {
    r.add(
      `${path}.nixosStateVersion`,
      stateVersion,
      `is newer than the pinned nixpkgs (${pin.branch}): a host cannot have been installed with a release it does not run`,
      "write the release the host was first installed with",
    );
  }
}
