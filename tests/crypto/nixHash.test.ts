// Nix's base32 and SRI spellings of a sha256, against values printed by the real Nix
// (nix-hash --to-base32, nix hash to-sri), and round trips over random digests.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { fromNixBase32, parseSha256, toNixBase32, toSri } from "../../core/crypto/nixHash";

const digest = (text: string) => new Uint8Array(createHash("sha256").update(text).digest());

// [input of sha256, nix-hash --type sha256 --to-base32, nix hash to-sri]
const vectors: [string, string, string][] = [
  [
    "",
    "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
  ],
  [
    "clawd-mesh",
    "0axvk0874cnnqn5hx01q1nliip9drbksxfa71z8ffrhnjqa6g5iw",
    "sha256-PJZnFJYWZufQD0e5rufKLd0YqQ04gA6LxdYychCYuys=",
  ],
];

test.each(vectors)("sha256(%j) spells as Nix spells it", (input, base32, sri) => {
  expect(toNixBase32(digest(input))).toBe(base32);
  expect(toSri(digest(input))).toBe(sri);
  expect(parseSha256(base32)).toEqual(digest(input));
  expect(parseSha256(sri)).toEqual(digest(input));
});

test("base32 round-trips every digest", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
      expect(fromNixBase32(toNixBase32(bytes))).toEqual(bytes);
    }),
  );
});

test.each([
  ["hex", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["a letter outside the alphabet", "emdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"],
  [
    "bits past 256 (the first digit holds one bit)",
    "2mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
  ],
  ["51 digits", "mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"],
  ["SRI of another algorithm", "sha512-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
  ["SRI with stray low bits", "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV="],
])("refuses %s", (_what, text) => {
  expect(parseSha256(text)).toBeUndefined();
});
