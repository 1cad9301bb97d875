import { renderEdge } from "../../lab/edge";

test("no edge: the host's chain is emptied, so everything passes", () => {
  expect(renderEdge("inet t", "cmv3", undefined)).toBe("flush chain inet t edge_cmv3\n");
});

test("rules: each source and port admitted, then everything else inbound dropped", () => {
  expect(
    renderEdge("inet t", "cmv3", [
      { protocol: "tcp", ports: [80, 80], cidr: "0.0.0.0/0" },
      { protocol: "udp", ports: [51820, 51830], cidr: "198.18.0.0/24" },
      { protocol: "tcp", cidr: "203.0.113.7/32" },
      { protocol: "icmp", cidr: "0.0.0.0/0" },
      { protocol: "tcp", ports: [443, 443], cidr: "::/0" },
    ]),
  ).toBe(
    [
      "flush chain inet t edge_cmv3",
      "add rule inet t edge_cmv3 ip saddr 0.0.0.0/0 tcp dport 80 accept",
      "add rule inet t edge_cmv3 ip saddr 198.18.0.0/24 udp dport 51820-51830 accept",
      "add rule inet t edge_cmv3 ip saddr 203.0.113.7/32 meta l4proto tcp accept",
      "add rule inet t edge_cmv3 ip saddr 0.0.0.0/0 meta l4proto icmp accept",
      "add rule inet t edge_cmv3 ip6 saddr ::/0 tcp dport 443 accept",
      "add rule inet t edge_cmv3 drop",
      "",
    ].join("\n"),
  );
});

test("an empty rule list drops every inbound connection", () => {
  expect(renderEdge("inet t", "cmv0", [])).toBe(
    "flush chain inet t edge_cmv0\nadd rule inet t edge_cmv0 drop\n",
  );
});

test("bad rules are refused together, each named", () => {
  expect(() =>
    renderEdge("inet t", "cmv0", [
      { protocol: "tcp", ports: [90, 80], cidr: "0.0.0.0/0" },
      { protocol: "icmp", ports: [8, 8], cidr: "10.0.0.1/24" },
    ]),
  ).toThrow(
    [
      "bad edge rules:",
      '  edge rule 0 ({"protocol":"tcp","ports":[90,80],"cidr":"0.0.0.0/0"}): ports must be [from, to] with 0 <= from <= to <= 65535',
      '  edge rule 1 ({"protocol":"icmp","ports":[8,8],"cidr":"10.0.0.1/24"}): cidr is not a network such as 198.18.0.0/15 (host bits must be zero)',
      '  edge rule 1 ({"protocol":"icmp","ports":[8,8],"cidr":"10.0.0.1/24"}): icmp has no ports; leave ports out',
    ].join("\n"),
  );
});
