/** Tests run in band: several suites start real tools (sshd, nft, wireguard-go) as root. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testTimeout: 60000,
};
