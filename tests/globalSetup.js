// The real-tool suites create network namespaces and load nftables rulesets: root only.
module.exports = async () => {
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(
      "The tests run real sshd, nft and wireguard-go in network namespaces: run them as root (sudo npm test).",
    );
  }
};
