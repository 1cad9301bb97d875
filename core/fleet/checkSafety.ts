// Checks on values that reach a root shell, a systemd unit, known_hosts or a chown on the
// node. Each is an allow-list: what a value may be, not a list of tricks it must not use,
// because a text that is only "not obviously hostile" ends up in a unit file as a new line.
import { LIBEXEC, SECRETS_DIR, STATE_DIR, VAULT_BINARY } from "./catalog";
import { parseIpv4 } from "../net/ipv4";
import type { Report } from "./report";

/**
 * A vault's data directory becomes the service user's (chown) and its only writable path
 * (ReadWritePaths), so it must be a directory of its own: below one of these, never one of the
 * system's or this program's. /var/lib/ is where services keep state (systemd's StateDirectory),
 * /srv/ where a site's data lives (FHS), /opt/ where add-on software keeps its own tree.
 */
export const DATA_DIR_PREFIXES = ["/var/lib/", "/srv/", "/opt/"] as const;

/** Directories a data directory must be neither inside nor above: they are not the vault's. */
const NOT_A_DATA_DIR = [
  STATE_DIR,
  LIBEXEC,
  SECRETS_DIR,
  VAULT_BINARY.slice(0, VAULT_BINARY.lastIndexOf("/")),
  // Package managers', init's and the other roles' own state under the allowed prefixes.
  "/var/lib/apt",
  "/var/lib/dpkg",
  "/var/lib/apk",
  "/var/lib/nixos",
  "/var/lib/systemd",
  "/var/lib/private",
  "/var/lib/sudo",
  "/var/lib/ollama",
  "/var/lib/rancher",
  "/var/lib/kubelet",
  "/var/lib/cni",
  "/var/lib/fail2ban",
];

export function checkDataDir(r: Report, path: string, dir: string): void {
  const plain =
    /^\/([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/.test(dir) &&
    !dir.split("/").some((s) => /^\.+$/.test(s));
  const fix = "use a directory of the vault's own, such as /var/lib/clavitor";
  if (!plain) {
    r.add(path, dir, "is not a plain absolute path (no '..', '.', '//' or trailing '/')", fix);
    return;
  }
  if (!DATA_DIR_PREFIXES.some((prefix) => dir.startsWith(prefix))) {
    r.add(
      path,
      dir,
      `is not under ${DATA_DIR_PREFIXES.slice(0, -1).join(", ")} or ${DATA_DIR_PREFIXES.at(-1)}; the vault's user would own a system directory`,
      fix,
    );
    return;
  }
  const taken = NOT_A_DATA_DIR.find(
    (d) => dir === d || dir.startsWith(`${d}/`) || d.startsWith(`${dir}/`),
  );
  if (taken) {
    r.add(
      path,
      dir,
      `${dir === taken ? "is" : taken.startsWith(`${dir}/`) ? "contains" : "is inside"} ${taken}, which is not the vault's to own`,
      fix,
    );
  }
}

/** systemd's named calendar shorthands (systemd.time(7)) and weekday names. */
const CALENDAR_WORDS = [
  "minutely",
  "hourly",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
];
const WEEKDAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*";
// One line of calendar tokens: digits, '*', ranges '..', lists ',', steps '/', the last day
// '~', dates '-', times ':', weekday names and a time zone (Europe/Zurich, UTC). No '=', no
// control character, nothing a unit file would read as a second directive.
const CALENDAR = new RegExp(
  `^(${WEEKDAY}((\\.\\.|,)${WEEKDAY})* )?[0-9*][0-9*,./~:-]*( [0-9*][0-9*,./:-]*)?( [A-Za-z][A-Za-z0-9_+/-]*)?$`,
);

/** A systemd OnCalendar= value: a shorthand, or one line of calendar tokens. */
export function isCalendar(text: string): boolean {
  return (
    text.length <= 100 &&
    (CALENDAR_WORDS.includes(text) || new RegExp(`^${WEEKDAY}$`).test(text) || CALENDAR.test(text))
  );
}

export function checkCalendar(r: Report, path: string, text: string): void {
  if (!isCalendar(text)) {
    r.add(
      path,
      text,
      "is not a systemd calendar expression (one line: a shorthand such as daily, or date and time tokens)",
      'use "daily", "weekly" or a time such as "*-*-* 03:00:00"',
    );
  }
}

// Exactly one Ed25519 key on one line: type, the 32-byte key in base64, and an optional
// comment of printable characters. No '*', '?', '!' or ',' (known_hosts patterns), no line break.
const ED25519_HOST_KEY =
  /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}=?( [\x21-\x7e]([ \x21-\x7e]{0,98}[\x21-\x7e])?)?$/;

export function isHostKey(text: string): boolean {
  return ED25519_HOST_KEY.test(text) && !/[*?!,]/.test(text.split(" ").slice(2).join(" "));
}

/**
 * Accounts that exist for the system or for a role on some node. Logging in as one would give
 * the operator's key to a service (its files, its processes), or make sshd refuse it.
 */
export const RESERVED_USERS = [
  "root",
  "daemon",
  "bin",
  "sys",
  "sync",
  "games",
  "man",
  "lp",
  "mail",
  "news",
  "uucp",
  "proxy",
  "www-data",
  "backup",
  "list",
  "irc",
  "gnats",
  "nobody",
  "nogroup",
  "messagebus",
  "sshd",
  "polkitd",
  "syslog",
  "uuidd",
  "tss",
  "dnsmasq",
  "tcpdump",
  "nscd",
  "chrony",
  "ntp",
  "avahi",
  "postfix",
  "fail2ban",
  "adm",
  "wheel",
  "sudo",
  "shadow",
  "utmp",
  "kmem",
  "tty",
  "disk",
  "operator",
  "halt",
  "shutdown",
  "k3s",
];
/** Generated system accounts: systemd's dynamic and helper users, Nix's build users, _apt. */
const RESERVED_USER_PATTERN = /^(systemd-.*|nixbld\d*|_.*)$/;

export function isReservedUser(name: string, roleUsers: readonly string[]): boolean {
  return (
    RESERVED_USERS.includes(name) || roleUsers.includes(name) || RESERVED_USER_PATTERN.test(name)
  );
}

/** IPv4 ranges no host on the internet (or a LAN) can be reached at, with why. */
const UNROUTABLE: readonly { readonly from: string; readonly to: string; readonly what: string }[] =
  [
    { from: "0.0.0.0", to: "0.255.255.255", what: "'this network' (0.0.0.0/8)" },
    { from: "127.0.0.0", to: "127.255.255.255", what: "loopback (127.0.0.0/8)" },
    { from: "169.254.0.0", to: "169.254.255.255", what: "link-local (169.254.0.0/16)" },
    { from: "224.0.0.0", to: "239.255.255.255", what: "multicast (224.0.0.0/4)" },
    {
      from: "240.0.0.0",
      to: "255.255.255.255",
      what: "reserved or broadcast (240.0.0.0/4, 255.255.255.255)",
    },
  ];

/** Why an address cannot be a host's public address, or undefined when it can be. */
export function unroutable(ip: number): string | undefined {
  return UNROUTABLE.find(
    (range) => ip >= (parseIpv4(range.from) ?? 0) && ip <= (parseIpv4(range.to) ?? 0),
  )?.what;
}

/**
 * An https URL as a URL: a host, no credentials, and only the characters RFC 3986 allows in a
 * URL, except quotes and backslashes; no whitespace or control character. It still may hold
 * '&', ';', '$', '(' (a presigned URL does): the scripts pass it as one argument, never as text
 * for a shell to read.
 */
export function isHttpsUrl(text: string): boolean {
  // The authority is a plain host[:port]: no user info, so no credentials in the URL.
  const shape =
    /^https:\/\/[A-Za-z0-9][A-Za-z0-9.-]*(:\d{1,5})?([/?#][A-Za-z0-9\-._~:/?#[\]@!$&()*+,;=%]*)?$/;
  if (!shape.test(text) || text.length > 2048) {
    return false;
  }
  try {
    const url = new URL(text);
    return url.protocol === "https:" && url.hostname !== "" && !url.username && !url.password;
  } catch {
    return false;
  }
}
