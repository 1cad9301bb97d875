// The lab transport's pure rules against pulumi-command v1.2.1 and the Go code under it: the
// dial retry schedule (remote/connection.go dialWithRetry on pulumi's retry.Until), Go's %q,
// x/crypto's exit texts, and x/crypto's host key and private key parsing with its words.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import {
  checkPrivateKeyFormat,
  goBase64,
  parseAuthorizedKey,
  type HostKey,
} from "../../operator/sshKeys";
import { backoffSchedule, DialRetry, RetriesExhausted } from "../../operator/sshRetry";
import { goQuote, localExitText, sshExitText } from "../../operator/sshText";

describe("dial retry (connection.go dialWithRetry, until.go Until)", () => {
  async function exhaust(limit: number, stopAfter = 100) {
    const sleeps: number[] = [];
    const log: string[] = [];
    const retry = new DialRetry("Dial", limit, {
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length >= stopAfter) throw new Error("deadline");
      },
      log: (l) => log.push(l),
    });
    let attempts = 0;
    let error: unknown;
    for (let i = 0; i < 1000; i++) {
      attempts++;
      try {
        await retry.failed(`boom ${attempts}`);
      } catch (e) {
        error = e;
        break;
      }
    }
    return { sleeps, log, attempts, error };
  }

  test("limit N: N+1 attempts, N waits of 0.1 s × 1.5^n, the error counts N", async () => {
    const r = await exhaust(2);
    expect(r.attempts).toBe(3);
    expect(r.sleeps).toEqual([100, 150]);
    expect(r.log).toEqual(["Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying"]);
    expect(r.error).toBeInstanceOf(RetriesExhausted);
    expect((r.error as Error).message).toBe("after 2 failed attempts: boom 3");
  });

  test("the default limit 10: 11 attempts, about 11.3 s of waiting", async () => {
    const r = await exhaust(10);
    expect(r.attempts).toBe(11);
    expect(r.sleeps.reduce((a, b) => a + b, 0)).toBeCloseTo(11_333, 0);
    expect((r.error as Error).message).toBe("after 10 failed attempts: boom 11");
  });

  test("limit 0: one attempt", async () => {
    const r = await exhaust(0);
    expect([r.attempts, r.sleeps, (r.error as Error).message]).toEqual([
      1,
      [],
      "after 0 failed attempts: boom 1",
    ]);
  });

  test("limit -1 retries until the deadline, as `inf`; below -1 too, printed as is", async () => {
    const inf = await exhaust(-1, 20);
    expect(inf.attempts).toBe(20);
    expect((inf.error as Error).message).toBe("deadline");
    expect(inf.log[0]).toBe("Dial 1/inf failed: retrying");
    const below = await exhaust(-2, 3);
    expect(below.log[0]).toBe("Dial 1/-2 failed: retrying");
  });

  test("waits are capped at 5 s from the eleventh on", () => {
    const s = backoffSchedule(13);
    expect(s.slice(0, 4)).toEqual([100, 150, 225, 337.5]);
    expect(s[9]).toBeCloseTo(3844.3, 1);
    expect(s.slice(10)).toEqual([5000, 5000, 5000]);
  });
});

describe("Go's words", () => {
  test.each([
    ["plain", '"plain"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ["a\nb\tc\r\x07\b\f\v", '"a\\nb\\tc\\r\\a\\b\\f\\v"'],
    ["\x01\x1b\x7f", '"\\x01\\x1b\\x7f"'],
    ["é ü 日本 😀", '"é ü 日本 😀"'],
    ["zero\u200bwidth", '"zero\\u200bwidth"'],
    ["\u00a0", '"\\u00a0"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ])("%j quotes as strconv.Quote does", (s, quoted) => {
    expect(goQuote(s)).toBe(quoted);
  });

  test("x/crypto Waitmsg and os/exec ProcessState texts", () => {
    expect(sshExitText({ status: 3 })).toBe("Process exited with status 3");
    expect(sshExitText({ signal: "TERM" })).toBe("Process exited with status 143 from signal TERM");
    expect(sshExitText({ signal: "USR1" })).toBe("Process exited with status 128 from signal USR1");
    expect(localExitText(2, null)).toBe("exit status 2");
    expect(localExitText(null, "SIGKILL")).toBe("signal: killed");
    expect(localExitText(null, "SIGTERM")).toBe("signal: terminated");
  });
});

/** ssh wire encoding of strings and mpints, to build public keys. */
function wire(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => {
      const b = typeof p === "string" ? Buffer.from(p) : p;
      const n = Buffer.alloc(4);
      n.writeUInt32BE(b.length);
      return Buffer.concat([n, b]);
    }),
  );
}

function mpint(b: Buffer): Buffer {
  return b[0] !== undefined && b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

function ed25519Line(comment = "host"): { line: string; key: Buffer } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const blob = wire("ssh-ed25519", raw);
  return { line: `ssh-ed25519 ${blob.toString("base64")} ${comment}`, key: blob };
}

function ecdsaBlob(publicKey: KeyObject, curve: string): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x as string, "base64url"),
    Buffer.from(jwk.y as string, "base64url"),
  ]);
  return wire(`ecdsa-sha2-${curve}`, curve, point);
}

describe("hostKey: x/crypto ssh.ParseAuthorizedKey", () => {
  const parse = (s: string): HostKey => parseAuthorizedKey(s);

  test("an authorized_keys line: the type inside the blob, the blob as it was", () => {
    const { line, key } = ed25519Line();
    expect(parse(line)).toEqual({ type: "ssh-ed25519", blob: key });
    // Comments and blank lines before it, options in front of it, \r\n, tabs.
    const withOptions = `# pinned\n\n  from="10.0.0.1,10.0.0.2",no-pty\t${line}\r\n`;
    expect(parse(withOptions).blob).toEqual(key);
  });

  test("the type field is never compared: the blob says what the key is", () => {
    const { line, key } = ed25519Line();
    expect(parse(line.replace("ssh-ed25519", "ssh-rsa"))).toEqual({
      type: "ssh-ed25519",
      blob: key,
    });
  });

  test("RSA and ECDSA keys", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
      format: "jwk",
    });
    const blob = wire(
      "ssh-rsa",
      mpint(Buffer.from(rsa.e as string, "base64url")),
      mpint(Buffer.from(rsa.n as string, "base64url")),
    );
    expect(parse(`ssh-rsa ${blob.toString("base64")}`).type).toBe("ssh-rsa");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
    const ecBlob = ecdsaBlob(ec, "nistp384");
    expect(parse(`ecdsa-sha2-nistp384 ${ecBlob.toString("base64")}`).type).toBe(
      "ecdsa-sha2-nistp384",
    );
    // A point off the curve.
    const bad = Buffer.from(ecBlob);
    bad.writeUInt8((bad.at(-1) as number) ^ 1, bad.length - 1);
    expect(() => parse(`x ${bad.toString("base64")}`)).toThrow(
      "ssh: no key found; last parsing error for ignored line: ssh: invalid curve point",
    );
  });

  test.each([
    ["", "ssh: no key found"],
    ["ssh-ed25519", "ssh: no key found"],
    ["# only a comment", "ssh: no key found"],
    [
      "ssh-ed25519 AAAAC3Nza",
      "ssh: no key found; last parsing error for ignored line: illegal base64 data at input byte 8",
    ],
    [
      "ssh-ed25519 AA!A",
      "ssh: no key found; last parsing error for ignored line: illegal base64 data at input byte 2",
    ],
    [
      "ssh-ed25519 AAAA junk",
      "ssh: no key found; last parsing error for ignored line: ssh: short read",
    ],
    [
      `ssh-ed25519 ${wire("ssh-ed25519", Buffer.alloc(31)).toString("base64")}`,
      "ssh: no key found; last parsing error for ignored line: invalid size 31 for Ed25519 public key",
    ],
    [
      `ssh-foo ${wire("ssh-foo", Buffer.alloc(3)).toString("base64")}`,
      "ssh: no key found; last parsing error for ignored line: ssh: unknown key algorithm: ssh-foo",
    ],
    [
      `ssh-ed25519 ${Buffer.concat([wire("ssh-ed25519", Buffer.alloc(32)), Buffer.from([0])]).toString("base64")}`,
      "ssh: no key found; last parsing error for ignored line: ssh: trailing junk in public key",
    ],
  ])("%j fails: %s", (line, message) => {
    expect(() => parse(line)).toThrow(message);
  });

  test("encoding/base64 StdEncoding: padding required", () => {
    expect(goBase64("AAAA")).toEqual(Buffer.from([0, 0, 0]));
    expect(goBase64("QQ==")).toEqual(Buffer.from("A"));
    expect(goBase64("QUE=")).toEqual(Buffer.from("AA"));
    expect(goBase64("QQ")).toBe("illegal base64 data at input byte 0");
    expect(goBase64("QQ==QQ==")).toBe("illegal base64 data at input byte 4");
    expect(goBase64("Q===")).toBe("illegal base64 data at input byte 1");
  });
});

describe("privateKey: x/crypto ParseRawPrivateKey[WithPassphrase] format rules", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
  const pkcs1 = rsa.export({ type: "pkcs1", format: "pem" }) as string;
  const pkcs8 = rsa.export({ type: "pkcs8", format: "pem" }) as string;
  const pkcs1Encrypted = rsa.export({
    type: "pkcs1",
    format: "pem",
    cipher: "aes-128-cbc",
    passphrase: "pw",
  }) as string;
  const pkcs8Encrypted = rsa.export({
    type: "pkcs8",
    format: "pem",
    cipher: "aes-128-cbc",
    passphrase: "pw",
  }) as string;
  /** An openssh-key-v1 file's header: enough for the format rules. */
  const openssh = (cipher: string, kdf: string, opts = "") => {
    const body = Buffer.concat([
      Buffer.from("openssh-key-v1\0", "latin1"),
      wire(cipher, kdf, opts),
    ]).toString("base64");
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;
  };

  test.each<[string, string, string | undefined, string | undefined]>([
    ["PKCS#1", pkcs1, undefined, undefined],
    ["PKCS#8", pkcs8, undefined, undefined],
    ["openssh, plain", openssh("none", "none"), undefined, undefined],
    ["openssh, encrypted", openssh("aes256-ctr", "bcrypt", "x"), "pw", undefined],
    ["legacy encrypted PEM", pkcs1Encrypted, "pw", undefined],
    ["no PEM at all", "hello", undefined, "ssh: no key found"],
    [
      "encrypted, no passphrase",
      pkcs1Encrypted,
      undefined,
      "ssh: this private key is passphrase protected",
    ],
    [
      "openssh encrypted, no passphrase",
      openssh("aes256-ctr", "bcrypt", "x"),
      undefined,
      "ssh: this private key is passphrase protected",
    ],
    [
      "openssh plain, a passphrase",
      openssh("none", "none"),
      "pw",
      "ssh: key is not password protected",
    ],
    ["PEM plain, a passphrase", pkcs1, "pw", "ssh: not an encrypted key"],
    [
      "PKCS#8 encrypted",
      pkcs8Encrypted,
      undefined,
      'ssh: unsupported key type "ENCRYPTED PRIVATE KEY"',
    ],
    ["PKCS#8 encrypted, a passphrase", pkcs8Encrypted, "pw", "ssh: not an encrypted key"],
    [
      "openssh, another KDF",
      openssh("aes256-ctr", "scrypt", "x"),
      "pw",
      'ssh: unknown KDF "scrypt", only supports "bcrypt"',
    ],
  ])("%s", (_name, pem, passphrase, error) => {
    const check = () => checkPrivateKeyFormat(pem, passphrase);
    if (error === undefined) expect(check).not.toThrow();
    else expect(check).toThrow(error);
  });
});
