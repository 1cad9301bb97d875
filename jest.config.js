/**
 * Tests are transpiled only: `tsc --noEmit` in `npm test` type-checks everything once, instead
 * of ts-jest re-checking the provider SDKs' large typings for every test file.
 * Several suites start real tools (sshd, nft, wireguard-go) as root; see tests/globalSetup.js.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  globalSetup: "<rootDir>/tests/globalSetup.js",
  testTimeout: 60000,
  // The lab is one per machine (one state file, fixed namespace names): never two at once.
  maxWorkers: 1,
};
