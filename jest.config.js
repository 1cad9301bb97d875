/**
 * Two tiers. `unit`: the fleet spec, plan, render, the program under Pulumi's mocks and the
 * engine's rules — no root, no network (`npm run test:unit`). `system`: the real tools (sshd,
 * nft, wireguard-go, nix-instantiate) and the lab in network namespaces, as root.
 * Tests are transpiled only: `tsc --noEmit` in `npm test` type-checks everything once, instead
 * of ts-jest re-checking the provider SDKs' large typings for every test file.
 */
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
const system = ["<rootDir>/tests/tools/", "<rootDir>/tests/lab/"];

module.exports = {
  testTimeout: 60000,
  // The lab is one per machine (one state file, fixed namespace names): never two at once.
  maxWorkers: 1,
  projects: [
    {
      ...common,
      displayName: "unit",
      roots: ["<rootDir>/tests"],
      testPathIgnorePatterns: ["/node_modules/", ...system],
    },
    {
      ...common,
      displayName: "system",
      roots: system,
      globalSetup: "<rootDir>/tests/globalSetup.js",
    },
  ],
};
