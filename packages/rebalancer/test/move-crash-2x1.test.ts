import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { IslandMasters, readCatalogs } from "@archipelago/migrate";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ClientFixture, startClientFixture } from "../../../test/helpers/cluster-fixture.js";
import { MOVE_STEPS, Mover } from "../src/index.js";
import { writeConfigFile } from "./helpers/cluster-setup.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

let fx: ClientFixture;
let masters: IslandMasters;
let dir: string;
let configPath: string;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 1, microshards: 2 });
  masters = new IslandMasters(fx.local.config);
  ({ dir, path: configPath } = writeConfigFile(fx.local.config, "archipelago-crash-"));
  await fx.cluster
    .shard(1)
    .query("INSERT INTO sh0001.items (n) SELECT g FROM generate_series(1, 2000) g", [], {
      write: true,
    });
});

afterAll(async () => {
  await masters?.end();
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the mover in a child process and kills it (SIGKILL) when it reaches `step`. */
async function killMoverAt(jobId: number, step: string): Promise<void> {
  const fixture = join(import.meta.dirname, "fixtures/run-move-until.ts");
  const child = spawn(
    process.execPath,
    ["--conditions=development", "--import", "tsx", fixture, configPath, String(jobId), step],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mover never reached ${step}: ${output}`)),
      60_000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`PAUSED ${step}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`mover exited before ${step}: ${output}`));
    });
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

// Every step but the last: the mover is killed right before it, then started again here.
const steps = MOVE_STEPS.filter((s) => s !== "completed");

it.each(steps)(
  "a mover killed before step %s resumes to a completed move, leaving nothing behind",
  async (step) => {
    const mover = new Mover({ config: fx.local.config, masters });
    const before = (await readCatalogs(masters)).find(
      (r) => r.microshard === 1 && r.state === "active",
    );
    const target = before?.island === 1 ? 2 : 1;
    const job = await mover.createMove(1, target);
    await killMoverAt(job.id, step);

    const done = await mover.run(job.id);
    expect(done.state).toBe("completed");
    const rows = (await readCatalogs(masters)).filter((r) => r.microshard === 1);
    expect(rows.filter((r) => r.state === "active").map((r) => r.island)).toEqual([target]);
    const [count] = await fx.local
      .master(target)
      .query<{ c: string }>("SELECT count(*) AS c FROM sh0001.items");
    expect(Number(count?.c)).toBe(2000);
    expect(await replicationLeftovers(fx.local)).toEqual([]);
    await mover.cleanup(done.id);
    expect((await readCatalogs(masters)).filter((r) => r.microshard === 1)).toHaveLength(1);
  },
);
