// sshd -T: the effective configuration, as lowercase keyword -> value.
import { runOk } from "./run";

export function effectiveSshd(
  configFile: string,
  hostKey: string,
  connection = "user=nobody,host=test,addr=10.255.255.1",
  wrap: (args: string[]) => [string, string[]] = (args) => ["sshd", args],
): Map<string, string> {
  const [command, args] = wrap(["-T", "-f", configFile, "-h", hostKey, "-C", connection]);
  const out = runOk(command, args);
  const values = new Map<string, string>();
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    const key = line.slice(0, space);
    // Repeated keywords (listenaddress, hostkey) are gathered, in order.
    values.set(
      key,
      values.has(key) ? `${values.get(key)} ${line.slice(space + 1)}` : line.slice(space + 1),
    );
  }
  return values;
}
