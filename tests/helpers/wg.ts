// Parsing `wg showconf` output (what the interface actually holds) into comparable data.
export interface WgConf {
  listenPort: number | null;
  peers: Map<string, { allowedIps: string[]; endpoint?: string; keepalive?: number }>;
}

export function parseWgConf(text: string): WgConf {
  const conf: WgConf = { listenPort: null, peers: new Map() };
  let current: { allowedIps: string[]; endpoint?: string; keepalive?: number } | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const [key, ...rest] = line.split("=");
    const value = rest.join("=").trim();
    switch (key?.trim()) {
      case "ListenPort":
        conf.listenPort = Number(value);
        break;
      case "PublicKey":
        current = { allowedIps: [] };
        conf.peers.set(value, current);
        break;
      case "AllowedIPs":
        current?.allowedIps.push(...value.split(",").map((s) => s.trim()));
        break;
      case "Endpoint":
        if (current) current.endpoint = value;
        break;
      case "PersistentKeepalive":
        if (current) current.keepalive = Number(value);
        break;
    }
  }
  return conf;
}
