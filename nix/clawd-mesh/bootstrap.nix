# Present only between a host's first push (over its public address) and the push that is
# proven over the mesh: sshd listens everywhere and the firewall lets SSH in from anywhere.
{ config, lib, ... }:
{
  services.openssh.listenAddresses = lib.mkForce [ ];
  networking.firewall.allowedTCPPorts = config.services.openssh.ports;
}
