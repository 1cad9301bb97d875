// A bad stack fails before a single resource is declared, with every problem listed.
import { FleetValidationError } from "../../core/fleet/problems";
import { smallFleet } from "../helpers/fleets";
import { lastRegistered } from "../helpers/mocks";
import { runFleet } from "../helpers/program";

test("an invalid fleet registers nothing and names every problem", async () => {
  const fleet = smallFleet();
  fleet.nodes[0].provider = "digitalocean";
  fleet.nodes[2].ollama.models[0].name = "no spaces allowed";
  await expect(runFleet(fleet)).rejects.toThrow(FleetValidationError);
  expect(lastRegistered()).toEqual([]);
  await expect(runFleet(fleet)).rejects.toThrow(
    /fleet\.nodes\[0\]\.provider = "digitalocean": is not a known provider\.[\s\S]*fleet\.nodes\[2\]\.ollama\.models\[0\]\.name = "no spaces allowed"/,
  );
});

test("the same fleet, valid, does register resources (the check above can fail)", async () => {
  await runFleet(smallFleet());
  expect(lastRegistered().length).toBeGreaterThan(5);
});

test("without SSH credentials the program stops before declaring anything", async () => {
  const saved = process.env.SSH_AUTH_SOCK;
  delete process.env.SSH_AUTH_SOCK;
  try {
    await expect(runFleet(smallFleet(), {}, { operatorKey: false })).rejects.toThrow(
      /No SSH credentials: set clawd-mesh:sshPrivateKey/,
    );
    expect(lastRegistered()).toEqual([]);
  } finally {
    if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
  }
});
