import { acquireMigrationLock, IslandMasters, readCatalogs } from "@archipelago/migrate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientFixture, startClientFixture } from "../../../test/helpers/cluster-fixture.js";
import { MoveAbortedError, MoveRefusedError, Mover } from "../src/index.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

let fx: ClientFixture;
let masters: IslandMasters;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 0, microshards: 6 });
  masters = new IslandMasters(fx.local.config);
  for (let m = 1; m <= 6; m++) {
    await fx.cluster
      .shard(m)
      .query(`INSERT INTO sh000${m}.items (n) SELECT g FROM generate_series(1, 500) g`, [], {
        write: true,
      });
  }
});

afterAll(async () => {
  await masters?.end();
  await fx?.stop();
});

const other = (microshard: number) => ((fx.placement.get(microshard) as number) === 1 ? 2 : 1);
const mover = (options = {}, beforeStep?: ConstructorParameters<typeof Mover>[0]["beforeStep"]) =>
  new Mover({ config: fx.local.config, masters, options, ...(beforeStep ? { beforeStep } : {}) });

async function activeOn(microshard: number): Promise<number[]> {
  return (await readCatalogs(masters))
    .filter((r) => r.microshard === microshard && r.state === "active")
    .map((r) => r.island);
}

describe("pre-checks", () => {
  it("refuses a microshard with a table that has no primary key, naming it, and creates nothing", async () => {
    const island = fx.placement.get(2) as number;
    await fx.local.master(island).query("CREATE TABLE sh0002.no_key (x int)");
    const error = await mover()
      .move(2, other(2))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoveRefusedError);
    expect((error as Error).message).toMatch(/no_key.*primary key/);
    expect(await activeOn(2)).toEqual([island]);
    expect(await replicationLeftovers(fx.local)).toEqual([]);
    await fx.local.master(island).query("DROP TABLE sh0002.no_key");
  });

  it("refuses to move while a migration runs", async () => {
    const target = other(3);
    const migration = await (await masters.pool(target)).connect();
    try {
      await acquireMigrationLock(migration, target, "exclusive", 1_000);
      const error = await mover({ lockTimeoutMs: 300 })
        .move(3, target)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MoveRefusedError);
      expect((error as Error).message).toContain("migration");
    } finally {
      migration.release(true);
    }
    expect(await activeOn(3)).toEqual([fx.placement.get(3)]);
  });

  it("never runs two moves of one microshard at once", async () => {
    const m = mover();
    const first = await m.createMove(4, other(4));
    await expect(m.createMove(4, other(4))).rejects.toBeInstanceOf(MoveRefusedError);
    await expect(m.run(first.id)).resolves.toMatchObject({ state: "completed" });
    await m.cleanup(first.id);
  });
});

describe("changes and failures during a move", () => {
  it("aborts and rolls back when a table is dropped mid-move; the source stays active", async () => {
    const source = fx.placement.get(5) as number;
    await fx.local.master(source).query("CREATE TABLE sh0005.extra (id int PRIMARY KEY)");
    const error = await mover({}, async (step) => {
      if (step === "switch") await fx.local.master(source).query("DROP TABLE sh0005.extra");
    })
      .move(5, other(5))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoveAbortedError);
    expect((error as Error).message).toMatch(/changed|error/);
    expect(await activeOn(5)).toEqual([source]);
    const onTarget = await fx.local
      .master(other(5))
      .query("SELECT 1 FROM pg_namespace WHERE nspname = 'sh0005'");
    expect(onTarget).toEqual([]);
    expect(await replicationLeftovers(fx.local)).toEqual([]);
    const [count] = await fx.local
      .master(source)
      .query<{ c: string }>("SELECT count(*) AS c FROM sh0005.items");
    expect(count?.c).toBe("500");
  });

  // Island 2 is the one stopped: island 1 holds the control catalog, which must answer to record
  // the rollback (when it does not, the job keeps its checkpoint; see mover.ts).
  it.each(["source", "target"] as const)(
    "the %s master stopping mid-copy: retries, fails safely, and cleanup finishes once it is back",
    async (which) => {
      const microshard = [...fx.placement]
        .filter(([m]) => m !== 0)
        .find(([, island]) => island === (which === "source" ? 2 : 1))?.[0] as number;
      const source = fx.placement.get(microshard) as number;
      const target = other(microshard);
      const m = mover({ stepRetryDeadlineMs: 1_500 }, async (step) => {
        if (step === "initial-copy") await fx.local.stopNode(fx.local.master(2));
      });
      const job = await m.createMove(microshard, target);
      const error = await m.run(job.id).catch((e: unknown) => e);
      await fx.local.startNode(fx.local.master(2));
      expect(error).toBeInstanceOf(MoveAbortedError);
      expect(await activeOn(microshard)).toEqual([source]);
      const cleaned = await m.cleanup(job.id);
      expect(cleaned.pending).toEqual([]);
      expect(await replicationLeftovers(fx.local)).toEqual([]);
      const schema = `sh${String(microshard).padStart(4, "0")}`;
      const onTarget = await fx.local
        .master(target)
        .query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
      expect(onTarget).toEqual([]);
      // The microshard still moves afterwards.
      const done = await mover().move(microshard, target);
      expect(done.state).toBe("completed");
      await mover().cleanup(done.id);
      fx.placement.set(microshard, target);
    },
  );
});

describe("regressions", () => {
  // A switch that committed just before the job failed at step `switch` must roll forward on resume;
  // restarting from precheck rolled back and dropped the target copy, leaving the microshard nowhere.
  it("a job failed at step switch after its commit resumes forward, never rolls back", async () => {
    const microshard = [...fx.placement].find(([m]) => m !== 0)?.[0] as number;
    const target = other(microshard);
    const m = mover({}, async (step) => {
      if (step === "activate-target") throw new Error("the mover died right after the switch");
    });
    const job = await m.createMove(microshard, target);
    await expect(m.run(job.id)).rejects.toThrow();
    const control = fx.local.master(fx.local.config.globalIsland);
    await control.query(
      "UPDATE archipelago.jobs SET step = 'switch', state = 'failed' WHERE id = $1",
      [job.id],
    );
    await expect(mover().cleanup(job.id)).rejects.toThrow(/resume/);
    const done = await mover().run(job.id);
    expect(done.state).toBe("completed");
    expect(await activeOn(microshard)).toEqual([target]);
    await mover().cleanup(done.id);
    fx.placement.set(microshard, target);
  });
});
