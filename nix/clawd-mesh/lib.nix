# Pure functions from a node's data (node.json) to NixOS option values. They map and format;
# every decision (which rules, which kernel settings, where k3s joins) is clawd-mesh's plan,
# carried in node.json. Builtins only, so that tests can evaluate them with nix-instantiate
# and no nixpkgs checkout.
let
  inherit (builtins) attrNames concatMap concatStringsSep isList length head map;

  set = values: if length values == 1 then toString (head values) else "{ ${concatStringsSep ", " (map toString values)} }";

  # One of the plan's set rules (firewall.meshInput, meshForward, which alone names
  # destinations), in the same words the generic nftables.conf uses.
  setRule = prefix: r:
    let
      to = if r ? to then " ip daddr ${set r.to}" else "";
      what = if r.match.kind == "ping" then "icmp type echo-request" else "${r.match.kind} dport ${set r.match.ports}";
    in
    "${prefix}ip saddr ${set r.from}${to} ${what} accept";

  lines = list: concatStringsSep "\n" list;
in
rec {
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
      # Ping is a mesh permission like any port (a meshInput rule), never public.
      allowPing = false;
      allowedTCPPorts = fw.publicTcpPorts;
      allowedUDPPorts = fw.publicUdpPorts;
      trustedInterfaces = fw.trustedInterfaces;
      filterForward = node.wireguard.forwarding;
      extraInputRules = lines (
        map (b: "ip saddr ${b.cidr} tcp dport ${set b.tcpPorts} accept") fw.breakGlass
        ++ map (setRule "${onMesh} ") fw.meshInput
      );
      extraForwardRules = lines (map (setRule ''${onMesh} oifname "${wg}" '') fw.meshForward);
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

  # NixOS's unit for the WireGuard interface, which services bound to the mesh address wait for.
  wireguardUnit = node: "wireguard-${node.wireguard.interface}.service";

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
            endpoint = p.endpoint or null;
            persistentKeepalive = p.persistentKeepalive or null;
          })
          w.peers;
      };
    };

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

  # services.k3s, from node.k3s: its settings as command-line flags.
  k3s = node:
    let
      k = node.k3s;
      values = v: if isList v then v else [ v ];
    in
    {
      enable = true;
      inherit (k) role tokenFile;
      serverAddr = if k.serverUrl != null then k.serverUrl else "";
      extraFlags = concatMap (key: map (v: "--${key}=${v}") (values k.settings.${key})) (attrNames k.settings);
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
