import { readUserData } from "../../lab/cloudInit";
import { cloudInitUserData, nixosAmiUserData } from "../../core/render/userData";
import { sshHostKeyFromSeed } from "../../core/crypto/keys";

const identity = sshHostKeyFromSeed(Buffer.alloc(32, 7).toString("base64"), "test");

test("the program's Debian user data: its host key only, nothing generated, nothing skipped", () => {
  expect(readUserData(cloudInitUserData("debian", identity))).toEqual({
    deleteKeys: true,
    keys: { ed25519: { private: identity.privateKey, public: identity.publicKey } },
    generate: [],
    files: [],
    notRun: [],
  });
});

test("the program's NixOS user data: files written with their modes, nixos-infect not run", () => {
  const install = { branch: "nixos-26.05", stateVersion: "26.05" };
  const boot = readUserData(cloudInitUserData("nixos", identity, install));
  expect(boot.files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
    ["/etc/nixos/ssh_host_ed25519_key", "600"],
    ["/etc/nixos/host.nix", "644"],
  ]);
  expect(boot.files[0]?.content).toBe(identity.privateKey);
  expect(boot.files[1]?.content).toContain('system.stateVersion = lib.mkForce "26.05";');
  expect(boot.notRun).toHaveLength(1);
  expect(boot.notRun[0]).toMatch(
    /^runcmd not run in the lab \(1 command\(s\): curl -fsSL .*nixos-infect/,
  );
});

test("a #! script (NixOS on AWS) is not run: the image keeps its own key", () => {
  expect(readUserData(nixosAmiUserData(identity))).toEqual({
    deleteKeys: false,
    keys: {},
    generate: [],
    files: [],
    notRun: ["user data is a script (#!/bin/sh): not run in the lab"],
  });
});

test("no user data: cloud-init's defaults, the image's keys replaced by new ones", () => {
  const boot = readUserData("");
  expect([boot.deleteKeys, boot.generate]).toEqual([true, ["rsa", "ecdsa", "ed25519"]]);
});

test("YAML 1.1 as cloud-init reads it; what the lab leaves out is named", () => {
  const boot = readUserData(
    [
      "#cloud-config",
      "ssh_deletekeys: false",
      "ssh_genkeytypes: [ed25519, dsa]",
      "packages: [curl]",
      "write_files:",
      "  - { path: /etc/a, content: x, permissions: 0640, owner: 'nobody:nogroup' }",
      "",
    ].join("\n"),
  );
  expect(boot.deleteKeys).toBe(false);
  expect(boot.generate).toEqual(["ed25519"]);
  expect(boot.files).toEqual([{ path: "/etc/a", content: "x", mode: 0o640 }]);
  expect(boot.notRun).toEqual([
    "cloud-config not applied in the lab: packages, ssh_genkeytypes dsa, write_files[].owner",
  ]);
});
