import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClientFixture,
  sleep,
  startClientFixture,
} from "../../../test/helpers/cluster-fixture.js";
import { RetryDeadlineExceededError } from "../src/index.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture(
    { islands: 2, replicasPerIsland: 1, microshards: 4 },
    { discoveryIslandTimeoutMs: 500 },
  );
  await fx.cluster.rediscover();
});

afterAll(async () => {
  await fx?.stop();
});

const onIsland = (island: number) =>
  [...fx.placement].find(([m, i]) => m !== 0 && i === island)?.[0] as number;

describe("discovery", () => {
  it("keeps the previous placement when a microshard shows up active on two islands", async () => {
    const microshard = onIsland(1);
    const schema = `sh${String(microshard).padStart(4, "0")}`;
    const conflicts: number[] = [];
    fx.cluster.events.on("conflict", (c) => conflicts.push(c.microshard));
    const other = fx.local.master(2);
    await other.query(
      "INSERT INTO archipelago.microshards (microshard, state, generation, schema_name) VALUES ($1, 'active', 1, $2)",
      [microshard, schema],
    );
    await fx.cluster.rediscover();
    expect(conflicts).toContain(microshard);
    expect(fx.cluster.map.locate(microshard)).toMatchObject({ kind: "active", island: 1 });
    await fx.cluster.shard(microshard).query(`SELECT count(*) FROM ${schema}.items`);
    expect(fx.queries.at(-1)?.island).toBe(1);
    // Retire the stray row through legal transitions.
    await other.query(
      "UPDATE archipelago.microshards SET state = 'sent', generation = 2 WHERE microshard = $1",
      [microshard],
    );
    await other.query(
      "UPDATE archipelago.microshards SET state = 'garbage' WHERE microshard = $1",
      [microshard],
    );
    await other.query("DELETE FROM archipelago.microshards WHERE microshard = $1", [microshard]);
    await fx.cluster.rediscover();
  });

  it("a dead island neither stalls discovery nor the other islands; its microshards stay routed to it", async () => {
    const alive = onIsland(1);
    const dead = onIsland(2);
    for (const node of fx.local.island(2).nodes) await fx.local.killNode(node);
    try {
      const started = Date.now();
      await fx.cluster.rediscover();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(fx.cluster.map.locate(dead)).toMatchObject({ kind: "active", island: 2 });
      const schema = `sh${String(alive).padStart(4, "0")}`;
      await expect(
        fx.cluster.shard(alive).query(`SELECT count(*) AS c FROM ${schema}.items`),
      ).resolves.toHaveLength(1);
      const deadSchema = `sh${String(dead).padStart(4, "0")}`;
      await expect(
        fx.cluster.shard(dead).query(`SELECT 1 FROM ${deadSchema}.items`, [], { deadlineMs: 500 }),
      ).rejects.toBeInstanceOf(RetryDeadlineExceededError);
    } finally {
      for (const node of fx.local.island(2).nodes) await fx.local.startNode(node);
    }
    await sleep(200);
    const deadSchema = `sh${String(dead).padStart(4, "0")}`;
    await expect(
      fx.cluster.shard(dead).query(`SELECT 1 FROM ${deadSchema}.items`),
    ).resolves.toBeDefined();
  });
});

describe("config changes", () => {
  it("removes and re-adds a node while queries run, without failing any", async () => {
    const microshard = onIsland(1);
    const schema = `sh${String(microshard).padStart(4, "0")}`;
    const full = fx.local.config;
    const withoutReplica = {
      ...full,
      islands: full.islands.map((i) => (i.island === 1 ? { ...i, nodes: i.nodes.slice(0, 1) } : i)),
    };
    const errors: unknown[] = [];
    let stop = false;
    const readers = Array.from({ length: 10 }, () =>
      (async () => {
        while (!stop) {
          await fx.cluster
            .shard(microshard)
            .query(`SELECT count(*) FROM ${schema}.items`, [], { role: "replica-ok" })
            .catch((e: unknown) => errors.push(e));
        }
      })(),
    );
    await sleep(200);
    await fx.cluster.updateConfig(withoutReplica);
    const islandOne = fx.cluster.islands().find((i) => i.island === 1);
    expect(islandOne?.nodes).toHaveLength(1);
    await sleep(200);
    await fx.cluster.updateConfig(full);
    await sleep(200);
    stop = true;
    await Promise.all(readers);
    expect(errors).toEqual([]);
    expect(fx.cluster.islands().find((i) => i.island === 1)?.nodes).toHaveLength(2);
  });
});
