// Runs inside one source's network namespace: tries every probe at once and prints, as JSON,
// whether each got through. A TCP probe got through when the SYN was answered (connected, or
// refused by a closed port behind an open firewall); silence means a firewall dropped it.
import { spawn } from "node:child_process";
import { connect } from "node:net";

interface Probe {
  readonly host: string;
  readonly port?: number;
}

function tcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    // Answers that arrived while the agent was busy are read before silence is declared.
    socket.setTimeout(2000, () => setImmediate(() => done(false)));
    socket.on("connect", () => done(true));
    socket.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED"));
  });
}

function ping(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("ping", ["-n", "-q", "-c", "1", "-W", "2", host], { stdio: "ignore" });
    child.on("close", (code) => resolve(code === 0));
    child.on("error", () => resolve(false));
  });
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const probes = JSON.parse(Buffer.concat(chunks).toString()) as Probe[];
  // Pings first: spawning a process blocks the agent, and a TCP probe's two seconds would run
  // on while its connection had not even been tried (seen under load as mesh probes "closed").
  const pings = probes.map((p) => (p.port === undefined ? ping(p.host) : undefined));
  const results = await Promise.all(probes.map((p, i) => pings[i] ?? tcp(p.host, p.port ?? 0)));
  process.stdout.write(JSON.stringify(results));
}

void main();
