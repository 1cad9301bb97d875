# The shape of node.json as NixOS options, so the module system type-checks what clawd-mesh
# writes before anything is built.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  ports = types.listOf types.port;
  record = options: types.submodule { inherit options; };
  req = type: mkOption { inherit type; };
  opt = type: default: mkOption { inherit type default; };
  ip = types.strMatching "[0-9]{1,3}(\\.[0-9]{1,3}){3}";
  # A forwarding rule's source may be the whole mesh (traffic to a member's public ports).
  ipOrCidr = types.strMatching "[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?";

  peer = record {
    name = req types.str;
    publicKey = req types.str;
    allowedIps = req (types.listOf types.str);
    endpoint = opt (types.nullOr types.str) null;
    persistentKeepalive = opt (types.nullOr types.ints.positive) null;
  };
  access = record {
    from = req types.str;
    fromIp = req ip;
    tcpPorts = req ports;
    udpPorts = req ports;
    ping = req types.bool;
  };
  rule = extra: record ({
    match = req (record {
      kind = req (types.enum [ "tcp" "udp" "ping" ]);
      ports = opt ports [ ];
    });
    from = req (types.listOf ipOrCidr);
  } // extra);
  forward = record {
    from = req types.str;
    fromIp = req ipOrCidr;
    to = req types.str;
    toIp = req ip;
    tcpPorts = req ports;
    udpPorts = req ports;
    ping = req types.bool;
  };
in
{
  options.clawdMesh.node = mkOption {
    description = "This node's part of the mesh, as clawd-mesh planned it (node.json).";
    type = record {
      name = req types.str;
      mesh = req types.attrs;
      provider = req (types.enum [ "vultr" "aws" "existing" ]);
      region = req types.str;
      os = req (types.enum [ "nixos" ]);
      roles = req (types.listOf (types.enum [ "hub" "entry" "ollama" "vault" "k3s-server" "k3s-agent" ]));
      meshIp = req ip;
      publicIp = req (types.nullOr ip);
      dnsName = req (types.nullOr types.str);
      wireguard = req (record {
        interface = req types.str;
        address = req types.str;
        listenPort = req (types.nullOr types.port);
        privateKeyFile = req types.str;
        forwarding = req types.bool;
        peers = req (types.listOf peer);
      });
      ssh = req (record {
        port = req types.port;
        listenAddresses = req (types.listOf ip);
        hostKey = req types.str;
        adminUser = req types.str;
        authorizedKeys = req (types.listOf types.str);
        settings = req (types.attrsOf (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
      });
      firewall = req (record {
        publicTcpPorts = req ports;
        publicUdpPorts = req ports;
        breakGlass = req (types.listOf (record { cidr = req types.str; tcpPorts = req ports; }));
        meshAccess = req (types.listOf access);
        meshInput = req (types.listOf (rule { }));
        forward = req (types.listOf forward);
        meshForward = req (types.listOf (rule { to = req (types.listOf ip); }));
        trustedInterfaces = req (types.listOf types.str);
        firstContact = req (record { cidrs = req (types.listOf types.str); tcpPorts = req ports; });
        metadataRootOnly = req types.bool;
      });
      ollama = req (types.nullOr (record {
        host = req types.str;
        port = req types.port;
        models = req (types.listOf types.str);
      }));
      vault = req (types.nullOr types.attrs);
      k3s = req (types.nullOr types.attrs);
      hardening = req (record {
        fail2ban = req (types.nullOr (record {
          port = req types.port;
          maxretry = req types.ints.positive;
          findtime = req types.ints.positive;
          bantime = req types.ints.positive;
        }));
        unattendedUpgrades = req types.bool;
      });
      sysctl = req (types.attrsOf types.int);
      nixos = req (record {
        stateVersion = req types.str;
        nixpkgs = req (record {
          branch = req types.str;
          release = req types.str;
          rev = req (types.strMatching "[0-9a-f]{40}");
          url = req types.str;
          sha256 = req types.str;
          narHash = req types.str;
        });
      });
    };
  };
}
