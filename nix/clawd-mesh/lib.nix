# Pure functions from a node's data (node.json) to NixOS option values. Builtins only, so
# that tests can evaluate them with nix-instantiate and no nixpkgs checkout.
let
  inherit (builtins) concatMap concatStringsSep length head map;

  set = values: if length values == 1 then toString (head values) else "{ ${concatStringsSep ", " (map toString values)} }";

  # Accept rules for one source, in the same words the generic nftables.conf uses.
  allowLines = match: tcp: udp: ping:
    (if tcp != [ ] then [ "${match} tcp dport ${set tcp} accept" ] else [ ])
    ++ (if udp != [ ] then [ "${match} udp dport ${set udp} accept" ] else [ ])
    ++ (if ping then [ "${match} icmp type echo-request accept" ] else [ ]);

  lines = list: concatStringsSep "\n" list;

  optional = cond: attrs: if cond then attrs else { };
in
rec {
  inherit allowLines;

  # First contact (bootstrap.nix): SSH from the operator's networks, as firstContactLines
  # writes it for nftables.conf.
  firstContactRules = first:
    ''ip saddr ${set first.cidrs} tcp dport ${set first.tcpPorts} accept comment "first contact, until the mesh is proven"'';

  firewall = node:
    let
      fw = node.firewall;
      wg = node.wireguard.interface;
      onMesh = ''iifname "${wg}"'';
    in
    {
      enable = true;
      # Ping is a mesh permission like any port (see meshAccess), never public.
      allowPing = false;
      allowedTCPPorts = fw.publicTcpPorts;
      allowedUDPPorts = fw.publicUdpPorts;
      trustedInterfaces = fw.trustedInterfaces;
      filterForward = node.wireguard.forwarding;
      extraInputRules = lines (
        concatMap (b: allowLines "ip saddr ${b.cidr}" b.tcpPorts [ ] false) fw.breakGlass
        ++ concatMap (a: allowLines "${onMesh} ip saddr ${a.fromIp}" a.tcpPorts a.udpPorts a.ping) fw.meshAccess
      );
      extraForwardRules = lines (
        concatMap
          (f: allowLines ''${onMesh} oifname "${wg}" ip saddr ${f.fromIp} ip daddr ${f.toIp}'' f.tcpPorts f.udpPorts f.ping)
          fw.forward
      );
    };

  # NixOS's input-allow chain accepts every ICMPv6 type but redirects before extraInputRules
  # are read, echo requests included. Ping is a mesh permission and the mesh is IPv4, so IPv6
  # echo requests from anywhere but a trusted interface are dropped in a table of their own,
  # ahead of it (a drop in any table is final), as the generic nftables.conf drops them.
  icmpv6EchoTable = node: {
    family = "inet";
    content = ''
      chain input {
        type filter hook input priority filter - 1; policy accept;
        iifname != ${set (map (i: ''"${i}"'') ([ "lo" ] ++ node.firewall.trustedInterfaces))} icmpv6 type echo-request drop
      }
    '';
  };

  # Cloud hosts: the provider's metadata service (whose user data holds the host key) answers
  # root alone, as the generic nftables.conf's output chain has it.
  metadataTable = node: {
    family = "inet";
    content = ''
      chain output {
        type filter hook output priority filter; policy accept;
        ip daddr 169.254.169.254 meta skuid != 0 drop
      }
    '';
  };

  wireguard = node:
    let w = node.wireguard; in
    {
      ${w.interface} = {
        ips = [ w.address ];
        listenPort = w.listenPort;
        # A path, never the key itself: the Nix store is world-readable.
        privateKeyFile = w.privateKeyFile;
        peers = map
          (p: {
            inherit (p) name publicKey;
            allowedIPs = p.allowedIps;
          }
          // optional (p ? endpoint) { inherit (p) endpoint; }
          // optional (p ? persistentKeepalive) { inherit (p) persistentKeepalive; })
          w.peers;
      };
    };

  sysctl = node:
    optional node.wireguard.forwarding { "net.ipv4.ip_forward" = 1; }
    // optional (node.ssh.listenAddresses != [ ] || node.ollama != null) { "net.ipv4.ip_nonlocal_bind" = 1; };

  openssh = node:
    let s = node.ssh; in
    {
      enable = true;
      ports = [ s.port ];
      listenAddresses = map (addr: { inherit addr; port = s.port; }) s.listenAddresses;
      openFirewall = false;
      hostKeys = [{ path = s.hostKey; type = "ed25519"; }];
      # Only /etc/ssh/authorized_keys.d/<user>, which root owns, as on every other node.
      authorizedKeysInHomedir = false;
      settings = s.settings;
    };

  # services.ollama, from node.ollama.
  ollama = node: {
    enable = true;
    inherit (node.ollama) host port;
    loadModels = node.ollama.models;
    openFirewall = false;
  };

  # The vault's units: the same rows as systemd/clavitor.service elsewhere.
  vault = node: {
    service = node.vault.service;
    integrity = node.vault.integrityService;
    timer = { OnCalendar = node.vault.integrityCalendar; Persistent = true; };
  };

  # services.k3s, from node.k3s.
  k3s = node:
    let k = node.k3s; in
    {
      enable = true;
      inherit (k) role tokenFile;
      serverAddr = if k.role == "agent" then "https://${k.serverIp}:6443" else "";
      extraFlags = k.flags;
    };

  # nix settings for the stack's pinned nixpkgs; `tree` is its store path.
  nixpkgs = pin: tree: {
    # No channel: nix-channel is gone and NIX_PATH holds only what is below.
    channel.enable = false;
    nixPath = [ "nixpkgs=${tree}" "nixos-config=/etc/nixos/configuration.nix" ];
    registry.nixpkgs.to = { type = "path"; path = tree; inherit (pin) narHash; };
  };

  # services.fail2ban.jails.sshd.settings, where SSH answers the internet.
  fail2ban = node:
    let f = node.hardening.fail2ban; in
    {
      enabled = true;
      port = toString f.port;
      inherit (f) maxretry findtime bantime;
    };
}
