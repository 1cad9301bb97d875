/**
 * Three projects, two tiers. `unit`: the fleet spec, plan, render, the program under Pulumi's mocks and the
 * engine's rules — no root, no network (`npm run test:unit`). `scale`: the program at 254 nodes
 * under mocks. `system`: the real tools (sshd, nft, wireguard-go, nix-instantiate) and the lab
 * in network namespaces, as root. `npm test` runs all three.
 * Tests are transpiled only: `tsc --noEmit` in `npm test` type-checks everything once, instead
 * of ts-jest re-checking the provider SDKs' large typings for every test file.
 */
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
const system = ["<rootDir>/tests/tools/", "<rootDir>/tests/lab/"];
// The program at 254 nodes under mocks: no root, but a minute of a 2-core machine, so it is
// not part of the fast tier.
const scale = ["<rootDir>/tests/program/scale.test.ts"];

module.exports = {
  testTimeout: 60000,
  // The lab is one per machine (one state file, fixed namespace names): never two at once.
  // The unit tier shares nothing and may use every core (`npm run test:unit`).
  maxWorkers: 1,
  projects: [
    {
      ...common,
      displayName: "unit",
      roots: ["<rootDir>/tests"],
      testPathIgnorePatterns: ["/node_modules/", ...system, ...scale],
    },
    { ...common, displayName: "scale", roots: ["<rootDir>/tests"], testMatch: scale },
    {
      ...common,
      displayName: "system",
      roots: system,
      globalSetup: "<rootDir>/tests/globalSetup.js",
    },
  ],
};
