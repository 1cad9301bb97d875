# The shape of node.json as NixOS options, so the module system type-checks what clawd-mesh
# writes before anything is built, and refuses a field it has no option for. The closed
# vocabularies (providers, roles, topologies, NixOS releases) come from core/fleet/catalog.ts,
# rendered beside this file as catalog.json. Rules between options are assertions at the end.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  catalog = builtins.fromJSON (builtins.readFile ./catalog.json);

  option = type: description: mkOption { inherit type description; };
  ports = description: option (types.listOf types.port) description;
  ip = types.strMatching "[0-9]{1,3}(\\.[0-9]{1,3}){3}";
  cidr = types.strMatching "[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}";
  absolutePath = types.strMatching "/.*";
  # The fleet's own checks (core/fleet): names are DNS labels, keys WireGuard's base64.
  label = types.strMatching "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
  wgKey = types.strMatching "[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=";
  releaseNumber = types.strMatching "[0-9]{2}\\.[0-9]{2}";
  # An sshd_config value, as NixOS's services.openssh.settings takes it.
  sshValue = types.oneOf [ types.bool types.int types.str (types.listOf types.str) ];

  peerOpts = {
    options = {
      name = option label "The peer's name in the fleet (a node or an operator's device).";
      publicKey = option wgKey "The peer's WireGuard public key.";
      allowedIps = option (types.listOf types.str) "Addresses routed to this peer (CIDRs).";
      endpoint = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "host:port to dial; absent when the peer has no public address.";
      };
      persistentKeepalive = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        description = "Seconds between keepalives; set when this side is behind NAT or a spoke.";
      };
    };
  };

  # core/plan/firewallSets.ts's rules: what they match, and from (and, forwarded, to) whom.
  setRuleOpts = {
    options = {
      match = option (types.submodule {
        options = {
          kind = option (types.enum [ "tcp" "udp" "ping" ]) "TCP or UDP ports, or ICMP echo requests.";
          ports = mkOption {
            type = types.listOf types.port;
            default = [ ];
            description = "Destination ports; absent for ping.";
          };
        };
      }) "What the rule accepts.";
      from = option (types.listOf (types.either ip cidr)) "Mesh addresses (or the mesh's CIDR) the rule accepts, as one nft set.";
    };
  };

  forwardSetRuleOpts = {
    options = setRuleOpts.options // {
      to = option (types.listOf ip) "The members the forwarded traffic goes to, as one nft set.";
    };
  };

  breakGlassOpts = {
    options = {
      cidr = option cidr "A public network allowed to SSH when the mesh is down.";
      tcpPorts = ports "The SSH port.";
    };
  };

  wireguardOpts = {
    options = {
      interface = option (types.strMatching "[A-Za-z0-9_.-]{1,15}") "The WireGuard interface's name.";
      address = option cidr "The node's mesh address with the mesh's prefix.";
      listenPort = option types.port "The UDP port WireGuard listens on.";
      privateKeyFile = option absolutePath "Mode-0600 file with the private key; never the key itself (the store is world-readable).";
      forwarding = option types.bool "Whether the node routes between peers (the hub).";
      hub = option (types.nullOr types.str) "A spoke's hub: the peer whose handshake proves the spoke's tunnel (null on the hub and in a full mesh).";
      peers = option (types.listOf (types.submodule peerOpts)) "The node's WireGuard peers.";
    };
  };

  sshOpts = {
    options = {
      port = option types.port "The port sshd listens on.";
      listenAddresses = option (types.listOf ip) "Addresses sshd binds; empty means every address.";
      hostKey = option absolutePath "The Ed25519 host key's path.";
      adminUser = option types.str "The only account that logs in.";
      authorizedKeys = option (types.listOf types.str) "The admin's public keys.";
      settings = option (types.attrsOf sshValue) "The hardening table, keyed by sshd_config keyword as NixOS's services.openssh.settings takes it.";
    };
  };

  firewallOpts = {
    options = {
      publicTcpPorts = ports "TCP ports open to everyone.";
      publicUdpPorts = ports "UDP ports open to everyone.";
      breakGlass = option (types.listOf (types.submodule breakGlassOpts)) "Public SSH for when the mesh is down.";
      firstContact = option (types.submodule {
        options = {
          cidrs = option (types.listOf cidr) "The operator's networks; empty means anywhere.";
          tcpPorts = ports "The SSH port.";
        };
      }) "SSH over the public address, only until a push over the mesh is proven (bootstrap.nix).";
      meshInput = option (types.listOf (types.submodule setRuleOpts)) "The rules accepted on the mesh interface (the plan's per-source allowances, grouped by port group and set of sources); nothing else is open there.";
      meshForward = option (types.listOf (types.submodule forwardSetRuleOpts)) "The rules a hub forwards between members, one per port group and set of sources; empty elsewhere.";
      trustedInterfaces = option (types.listOf types.str) "Interfaces whose traffic is accepted wholesale (k3s pod networks).";
      metadataRootOnly = option types.bool "Whether only root may reach the cloud's metadata service.";
    };
  };

  ollamaOpts = {
    options = {
      host = option ip "The address Ollama binds: the mesh address unless public Ollama was allowed.";
      port = option types.port "Ollama's port.";
      models = option (types.listOf types.str) "The models the node keeps.";
    };
  };

  vaultOpts = {
    options = {
      user = option types.str "The vault's service account.";
      binary = option absolutePath "Where the vault's binary is installed.";
      binaryUrl = option types.str "Where the push fetches the binary from.";
      binarySha256 = option (types.strMatching "[0-9a-f]{64}") "The binary's sha256.";
      dataDir = option absolutePath "The vault's data directory.";
      environmentFile = option absolutePath "Mode-0600 file with the vault's settings.";
      healthUrl = option types.str "What the push's confirmation asks.";
      service = option (types.attrsOf types.str) "[Service] directives of the vault unit.";
      integrityService = option (types.attrsOf types.str) "[Service] directives of the integrity check.";
      integrityCalendar = option types.str "systemd calendar expression of the integrity check.";
    };
  };

  k3sOpts = {
    options = {
      role = option (types.enum [ "server" "agent" ]) "The node's part in the cluster.";
      serverUrl = option (types.nullOr types.str) "Agents: the server's API, which they join; null on the server.";
      tokenFile = option absolutePath "Mode-0600 file with the join token.";
      settings = option (types.attrsOf (types.either types.str (types.listOf types.str))) "k3s's settings by flag name; a list for a repeatable flag.";
      snapshotSchedule = option (types.nullOr types.str) "Server: systemd calendar expression of the datastore snapshot.";
      ingressHosts = option (types.listOf types.str) "Server: DNS names of the ingress.";
    };
  };

  hardeningOpts = {
    options = {
      fail2ban = option (types.nullOr (types.submodule {
        options = {
          port = option types.port "The SSH port the jail watches.";
          maxretry = option types.ints.positive "Failures before a ban.";
          findtime = option types.ints.positive "Seconds in which maxretry failures ban.";
          bantime = option types.ints.positive "Seconds a ban lasts.";
        };
      })) "fail2ban's sshd jail, where SSH answers the internet; null elsewhere.";
      unattendedUpgrades = option types.bool "Debian and Ubuntu only; always false here.";
    };
  };

  nixosOpts = {
    options = {
      stateVersion = option releaseNumber "The NixOS release the host was installed with.";
      nixpkgs = option (types.submodule {
        options = {
          branch = option (types.strMatching "nixos-[0-9]{2}\\.[0-9]{2}") "The nixpkgs release branch.";
          release = option (types.enum catalog.nixosReleases) "The NixOS release of the branch: one the modules are written for.";
          rev = option (types.strMatching "[0-9a-f]{40}") "The pinned commit.";
          url = option types.str "The commit's tarball.";
          sha256 = option types.str "The sha256 of the unpacked tree.";
          narHash = option (types.strMatching "sha256-[A-Za-z0-9+/]{43}=") "The same hash in SRI form, for the flake registry.";
        };
      }) "The stack's one nixpkgs.";
    };
  };

  nodeOpts = {
    options = {
      name = option label "The node's name, also its host name.";
      mesh = option (types.submodule {
        options = {
          name = option types.str "The mesh's name.";
          cidr = option cidr "The mesh's network.";
          topology = option (types.enum catalog.topologies) "How nodes peer.";
        };
      }) "The mesh the node is part of.";
      provider = option (types.enum catalog.providers) "Where the host runs.";
      region = option types.str "The provider's region, or a free label for existing hosts.";
      os = option (types.enum [ "nixos" ]) "The node's OS; these modules are NixOS's.";
      roles = option (types.listOf (types.enum catalog.roles)) "What the node runs.";
      meshIp = option ip "The node's mesh address.";
      publicIp = option (types.nullOr ip) "The address the internet reaches the node at; null behind NAT.";
      dnsName = option (types.nullOr types.str) "The node's DNS name, if any.";
      wireguard = option (types.submodule wireguardOpts) "The node's WireGuard interface.";
      ssh = option (types.submodule sshOpts) "sshd and the admin account.";
      firewall = option (types.submodule firewallOpts) "The node's firewall policy.";
      ollama = option (types.nullOr (types.submodule ollamaOpts)) "Ollama, on nodes with the ollama role.";
      vault = option (types.nullOr (types.submodule vaultOpts)) "The vault, on nodes with the vault role.";
      k3s = option (types.nullOr (types.submodule k3sOpts)) "k3s, on cluster members.";
      hardening = option (types.submodule hardeningOpts) "Hardening beyond sshd and the firewall.";
      sysctl = option (types.attrsOf types.int) "Kernel settings, by sysctl key.";
      nixos = option (types.submodule nixosOpts) "The release and the nixpkgs the node builds from.";
    };
  };
in
{
  options.clawdMesh.node = option (types.submodule nodeOpts) "This node's part of the mesh, as clawd-mesh planned it (node.json).";

  config.assertions =
    let
      node = config.clawdMesh.node;
      has = role: builtins.elem role node.roles;
      k = node.k3s;
    in
    [
      {
        assertion = (k != null) == (has "k3s-server" || has "k3s-agent");
        message = "clawd-mesh: ${node.name}: k3s settings are there exactly when a k3s role is.";
      }
      {
        assertion = k == null || (k.role == "agent") == (k.serverUrl != null);
        message = "clawd-mesh: ${node.name}: a k3s agent names the server it joins, and only an agent does.";
      }
      {
        assertion = (node.ollama != null) == has "ollama";
        message = "clawd-mesh: ${node.name}: Ollama settings are there exactly when the ollama role is.";
      }
      {
        assertion = (node.vault != null) == has "vault";
        message = "clawd-mesh: ${node.name}: vault settings are there exactly when the vault role is.";
      }
      {
        assertion = node.wireguard.forwarding || node.firewall.meshForward == [ ];
        message = "clawd-mesh: ${node.name}: only a node that forwards has forwarding rules.";
      }
    ];
}
