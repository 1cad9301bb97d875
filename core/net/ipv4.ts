// IPv4 addresses as unsigned 32-bit numbers. Parsing is strict on purpose: "010.0.0.1" or
// "10.0.0" are rejected rather than guessed at, because a mesh IP that means something other
// than what the operator typed is worse than an error.

export interface Cidr {
  /** The network address, as a number. */
  readonly network: number;
  readonly prefix: number;
}

const DOT = 46;
const ZERO = 48;

/** Read digit by digit: the planner parses every member's address for every node. */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octets = 0;
  let i = 0;
  while (i <= text.length) {
    const start = i;
    let octet = 0;
    for (; i < text.length && text.charCodeAt(i) !== DOT; i++) {
      const digit = text.charCodeAt(i) - ZERO;
      if (digit < 0 || digit > 9) return undefined;
      octet = octet * 10 + digit;
    }
    const width = i - start;
    // One to three digits, no leading zero, at most 255.
    if (width === 0 || width > 3 || (width > 1 && text.charCodeAt(start) === ZERO))
      return undefined;
    if (octet > 255 || ++octets > 4) return undefined;
    value = value * 256 + octet;
    i++;
  }
  return octets === 4 ? value : undefined;
}

export function formatIpv4(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join(".");
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/** Parses "a.b.c.d/n"; undefined when malformed or when host bits are set ("10.0.0.1/24"). */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const ip = parseIpv4(match[1] ?? "");
  const prefix = Number(match[2]);
  if (ip === undefined || prefix > 32) return undefined;
  if (ip % blockSize(prefix) !== 0) return undefined;
  return { network: ip, prefix };
}

export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function broadcast(cidr: Cidr): number {
  return cidr.network + blockSize(cidr.prefix) - 1;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.network && ip <= broadcast(cidr);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= broadcast(b) && b.network <= broadcast(a);
}

/** Usable host numbers run from 1 to size-2: the first and last address are reserved. */
export function usableHosts(cidr: Cidr): number {
  return Math.max(0, blockSize(cidr.prefix) - 2);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function compareIpv4(a: string, b: string): number {
  return (parseIpv4(a) ?? 0) - (parseIpv4(b) ?? 0);
}

/**
 * Sorted by address (a CIDR by its network, then its prefix), each address parsed once: a
 * fleet's lists run to hundreds, and parsing inside a comparator did it n log n times.
 */
export function sortByIpv4<T>(items: Iterable<T>, ipOf: (item: T) => string): T[] {
  const keyed = [...items].map((item) => {
    const [ip = "", prefix = "32"] = ipOf(item).split("/");
    return { item, ip: parseIpv4(ip) ?? 0, prefix: Number(prefix) };
  });
  keyed.sort((a, b) => a.ip - b.ip || a.prefix - b.prefix);
  return keyed.map((k) => k.item);
}
