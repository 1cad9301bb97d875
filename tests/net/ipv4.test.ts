import fc from "fast-check";
import {
  broadcast,
  contains,
  formatIpv4,
  overlaps,
  parseCidr,
  parseIpv4,
  usableHosts,
} from "../../core/net/ipv4";

const ip = fc.integer({ min: 0, max: 2 ** 32 - 1 });

test("format and parse are inverse", () => {
  fc.assert(fc.property(ip, (n) => parseIpv4(formatIpv4(n)) === n));
});

test.each(["10.0.0", "10.0.0.1.2", "010.0.0.1", "256.0.0.1", "1.2.3.-4", " 1.2.3.4", "a.b.c.d"])(
  "rejects %p as an address",
  (text) => expect(parseIpv4(text)).toBeUndefined(),
);

test("CIDRs: host bits must be zero; sizes and bounds", () => {
  expect(parseCidr("10.84.0.1/24")).toBeUndefined();
  expect(parseCidr("10.84.0.0/33")).toBeUndefined();
  const c = parseCidr("10.84.0.0/24")!;
  expect(formatIpv4(broadcast(c))).toBe("10.84.0.255");
  expect(usableHosts(c)).toBe(254);
  expect(contains(c, parseIpv4("10.84.0.7")!)).toBe(true);
  expect(contains(c, parseIpv4("10.84.1.7")!)).toBe(false);
});

test("overlap is symmetric and matches containment of either network address", () => {
  const cidr = fc
    .tuple(ip, fc.integer({ min: 8, max: 32 }))
    .map(([n, p]) => ({ network: n - (n % 2 ** (32 - p)), prefix: p }));
  fc.assert(
    fc.property(cidr, cidr, (a, b) => {
      expect(overlaps(a, b)).toBe(overlaps(b, a));
      expect(overlaps(a, b)).toBe(contains(a, b.network) || contains(b, a.network));
    }),
  );
});
