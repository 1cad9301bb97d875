// A node's WireGuard keys by generation: generation 0 is the seed itself (keys made before
// rotation existed stay as they are), later ones HKDF-SHA256 of the seed, computed here by
// hand from RFC 5869 to hold the derivation to what it says it is.
import { createHmac, randomBytes } from "node:crypto";
import {
  k3sTokenOfGeneration,
  wireguardKeyOfGeneration,
  wireguardPublicKey,
} from "../../core/crypto/keys";

function hkdf(seed: Buffer, info: string): Buffer {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(seed).digest();
  return createHmac("sha256", prk)
    .update(Buffer.concat([Buffer.from(info), Buffer.from([1])]))
    .digest();
}

const seed = randomBytes(32).toString("base64");

test("generation 0 is the seed: a node's key does not change until it is first rotated", () => {
  expect(wireguardKeyOfGeneration(seed, 0)).toBe(seed);
});

test.each([1, 2, 17])("generation %i is HKDF-SHA256 of the seed, and a key of its own", (g) => {
  const key = wireguardKeyOfGeneration(seed, g);
  const expected = hkdf(Buffer.from(seed, "base64"), `clawd-mesh wireguard key generation ${g}`);
  expect(key).toBe(expected.toString("base64"));
  expect(wireguardKeyOfGeneration(seed, g)).toBe(key);
  expect(wireguardPublicKey(key)).not.toBe(
    wireguardPublicKey(wireguardKeyOfGeneration(seed, g - 1)),
  );
});

test.each([-1, 1.5, Number.NaN])("generation %p is refused", (g) => {
  expect(() => wireguardKeyOfGeneration(seed, g)).toThrow(/whole number from 0/);
});

// The k3s join token the same way: the random token is generation 0, later ones its HKDF, hex.
const token = "Z".repeat(32) + "a1".repeat(16);

test("k3s token generation 0 is the cluster's random token itself", () => {
  expect(k3sTokenOfGeneration(token, 0)).toBe(token);
});

test.each([1, 2, 9])("k3s token generation %i is HKDF-SHA256 of the token, in hex", (g) => {
  const expected = hkdf(Buffer.from(token), `clawd-mesh k3s token generation ${g}`).toString("hex");
  expect(k3sTokenOfGeneration(token, g)).toBe(expected);
  expect(expected).toMatch(/^[0-9a-f]{64}$/);
  expect(k3sTokenOfGeneration(token, g)).not.toBe(k3sTokenOfGeneration(token, g - 1));
});

test.each([-1, 0.5])("k3s token generation %p is refused", (g) => {
  expect(() => k3sTokenOfGeneration(token, g)).toThrow(/whole number from 0/);
});
