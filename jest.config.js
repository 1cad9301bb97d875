/** Several suites start real tools (sshd, nft, wireguard-go) as root; see tests/globalSetup.js. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  globalSetup: "<rootDir>/tests/globalSetup.js",
  testTimeout: 60000,
};
