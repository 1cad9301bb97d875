# EC2 hosts boot from NixOS's own EC2 module. t3 instances start through SeaBIOS, not UEFI
# (seed 003 lost two instances to an EFI-only boot loader), so GRUB is installed for BIOS.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/virtualisation/amazon-image.nix") ];
  ec2.efi = false;
}
