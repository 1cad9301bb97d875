// What the retire decides (operator/retire.ts), against a transport that answers as a machine
// would: one that leaves, one reached over its public address (its SSH still answers after it
// left), one that stays, one that cannot be asked, one with a receiver that does not know the
// command, and one the mesh stops routing to.
import { INTERFACES_COMMAND, RETIRE_COMMAND_REMOTE } from "../../core/delivery/command";
import type { RetirePlan } from "../../core/delivery/retire";
import { retireMachine, type RetireLimits } from "../../operator/retire";
import { CommandFailed, DialFailed, TimedOut, type Transport } from "../../operator/ssh";

const PLAN: RetirePlan = {
  node: "newjersey",
  route: { host: "10.84.0.4", port: 22, user: "soc", hostKey: "ssh-ed25519 AAAA" },
  dial: { attempts: 2, perDialTimeout: 5 },
};
const FAST: RetireLimits = { askMs: 1000, goneMs: 400, checkMs: 100, pauseMs: 10 };
const LISTED = "1: lo: <LOOPBACK,UP> mtu 65536\n2: eth0@if7: <UP> mtu 1500";
const WITH_WG = `${LISTED}\n3: wg0: <POINTOPOINT,UP> mtu 1420`;

/** A machine: what the ask does, then what each check finds, in turn (the last one repeats). */
function machine(ask: () => void, checks: (() => string)[]) {
  const asked: string[] = [];
  let n = 0;
  const ssh: Transport = {
    async remote(r) {
      asked.push(
        r.command === RETIRE_COMMAND_REMOTE
          ? "ask"
          : r.command === INTERFACES_COMMAND
            ? "check"
            : r.command,
      );
      if (r.command === RETIRE_COMMAND_REMOTE) {
        ask();
        return { stdout: "clawd-mesh: leaving the mesh", stderr: "" };
      }
      const check = checks[Math.min(n++, checks.length - 1)] as () => string;
      return { stdout: check(), stderr: "" };
    },
    local: () => Promise.reject(new Error("no local runs here")),
  };
  return { ssh, asked };
}

async function retire(m: ReturnType<typeof machine>) {
  const said: string[] = [];
  const code = await retireMachine(PLAN, { ssh: m.ssh, say: (l) => said.push(l), limits: FAST });
  return { code, said, asked: m.asked };
}

const unreached = () => {
  throw new DialFailed("after 1 failed attempts: dial tcp 10.84.0.4:22: i/o timeout", 1);
};

test("a machine that leaves: its interface is gone at the next check", async () => {
  const r = await retire(machine(() => {}, [() => WITH_WG, () => LISTED]));
  expect(r).toEqual({
    code: 0,
    asked: ["ask", "check", "check"],
    said: [
      "the machine leaves the mesh; waiting until its wg0 is gone",
      "it has left the mesh: wg0 is gone",
    ],
  });
});

test("over the mesh, two checks in a row that reach nothing are the machine gone; one is not", async () => {
  const r = await retire(machine(() => {}, [unreached, () => WITH_WG, unreached, unreached]));
  expect(r.code).toBe(0);
  expect(r.asked).toEqual(["ask", "check", "check", "check", "check"]);
  expect(r.said.at(-1)).toBe("it has left the mesh: it no longer answers over soc@10.84.0.4:22");
});

test("a check that runs out of time counts as not reached", async () => {
  const late = () => {
    throw new TimedOut("context deadline exceeded");
  };
  expect((await retire(machine(() => {}, [late, late]))).code).toBe(0);
});

test("a machine that keeps its interface fails the up, saying how to go on", async () => {
  const r = await retire(machine(() => {}, [() => WITH_WG]));
  expect(r.code).toBe(1);
  expect(r.said.at(-1)).toMatch(
    /^it still has wg0 0\.4 s after it said it leaves .* Fix: stop its WireGuard or delete the machine by hand, then run up again/,
  );
});

test("a check the machine cannot run proves nothing: it keeps waiting", async () => {
  const fails = () => {
    throw new CommandFailed("Process exited with status 127", INTERFACES_COMMAND, "ip: not found");
  };
  const r = await retire(machine(() => {}, [fails]));
  expect(r.code).toBe(1);
  expect(r.said.at(-1)).toMatch(/^its interfaces could not be read 0\.4 s after it said it leaves/);
});

test("a machine that cannot be asked holds nothing up: a warning, and success", async () => {
  const r = await retire(machine(unreached, []));
  expect(r.code).toBe(0);
  expect(r.asked).toEqual(["ask"]);
  expect(r.said).toEqual([
    "warning: the machine did not answer over soc@10.84.0.4:22 within 1 s (after 1 failed attempts: dial tcp 10.84.0.4:22: i/o timeout); nothing to take off the mesh, or, if it still runs, it stays on it until it is deleted at the end of this up",
  ]);
});

test("a receiver that refuses (an older one) is a warning: the machine stays until it is deleted", async () => {
  const refuses = () => {
    throw new CommandFailed(
      "Process exited with status 2",
      RETIRE_COMMAND_REMOTE,
      "clawd-mesh-receive: unknown command retire",
    );
  };
  const r = await retire(machine(refuses, []));
  expect(r.code).toBe(0);
  expect(r.said[0]).toMatch(
    /^warning: the machine answered over soc@10\.84\.0\.4:22 but did not leave the mesh \(Process exited with status 2: running .*unknown command retire\); it stays on it until it is deleted at the end of this up$/s,
  );
});
