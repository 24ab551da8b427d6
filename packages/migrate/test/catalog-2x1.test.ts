import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import {
  CATALOG_SQLSTATES,
  LATEST_CATALOG_VERSION,
  microshardOfId,
  parseId,
} from "@archipelago/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  installCatalogOn,
  publishClusterMap,
  readCatalogs,
  WrongIslandError,
} from "../src/index.js";

let cluster: LocalCluster;
let masters: IslandMasters;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  masters = new IslandMasters(cluster.config);
});

afterAll(async () => {
  await masters?.end();
  await cluster?.stop();
});

describe("catalog install", () => {
  it("upgrades an older catalog in place, keeping its rows", async () => {
    const v1 = await installCatalog(masters, { targetVersion: 1 });
    expect(v1.map((r) => [r.fromVersion, r.toVersion, r.changed])).toEqual([
      [0, 1, true],
      [0, 1, true],
    ]);
    await cluster.master(1).query("SELECT archipelago.allocate_microshard(77)");
    const upgraded = await installCatalog(masters);
    expect(upgraded.map((r) => [r.fromVersion, r.toVersion, r.changed])).toEqual([
      [1, LATEST_CATALOG_VERSION, true],
      [1, LATEST_CATALOG_VERSION, true],
    ]);
    const rows = await cluster
      .master(1)
      .query("SELECT microshard, state, generation FROM archipelago.microshards");
    expect(rows).toEqual([{ microshard: 77, state: "active", generation: 1 }]);
    const [epoch] = await cluster
      .master(1)
      .query("SELECT epoch FROM archipelago.cluster_map_epoch");
    expect(epoch).toEqual({ epoch: "0" });
  });

  it("is a no-op when re-run on a current catalog (no row written or even locked)", async () => {
    // xmin/xmax change when a row is updated, deleted or locked; a no-op install touches none.
    const snapshot = () =>
      cluster.master(2).query(
        `SELECT 'version' AS t, xmin::text, xmax::text FROM archipelago.catalog_version
         UNION ALL SELECT 'identity', xmin::text, xmax::text FROM archipelago.island_identity
         UNION ALL SELECT from_state || '>' || to_state, xmin::text, xmax::text FROM archipelago.microshard_transitions
         ORDER BY 1`,
      );
    const before = await snapshot();
    const again = await installCatalog(masters);
    expect(again.every((r) => !r.changed && r.fromVersion === LATEST_CATALOG_VERSION)).toBe(true);
    expect(await snapshot()).toEqual(before);
    const identity = await cluster
      .master(2)
      .query("SELECT island, id_environment FROM archipelago.island_identity");
    expect(identity).toEqual([{ island: 2, id_environment: 1 }]);
  });

  it("runs safely when two installers race on a fresh database", async () => {
    const node = cluster.master(1);
    await node.query("CREATE DATABASE race_target");
    const client = async () => {
      const pg = (await import("pg")).default;
      const c = new pg.Client({ ...node.connection(), database: "race_target" });
      await c.connect();
      return c;
    };
    const [a, b] = await Promise.all([client(), client()]);
    const results = await Promise.all([
      installCatalogOn(a, { island: 9, idEnvironment: 1 }),
      installCatalogOn(b, { island: 9, idEnvironment: 1 }),
    ]);
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    await Promise.all([a.end(), b.end()]);
  });

  it("refuses a database that already belongs to another island", async () => {
    await expect(
      masters.withClient(1, (c) => installCatalogOn(c, { island: 2, idEnvironment: 1 })),
    ).rejects.toBeInstanceOf(WrongIslandError);
  });
});

describe("catalog state guard", () => {
  it("rejects state changes the state machine does not allow, by SQLSTATE", async () => {
    const master = cluster.master(1);
    await expect(
      master.query("UPDATE archipelago.microshards SET state = 'receiving' WHERE microshard = 77"),
    ).rejects.toMatchObject({ code: CATALOG_SQLSTATES.illegalTransition });
    await expect(
      master.query("UPDATE archipelago.microshards SET state = 'sent' WHERE microshard = 77"),
    ).rejects.toMatchObject({ code: CATALOG_SQLSTATES.illegalTransition }); // generation not bumped
    await expect(
      master.query("DELETE FROM archipelago.microshards WHERE microshard = 77"),
    ).rejects.toMatchObject({
      code: CATALOG_SQLSTATES.illegalTransition,
    });
    await master.query(
      "UPDATE archipelago.microshards SET state = 'sent', generation = generation + 1 WHERE microshard = 77",
    );
    const [row] = await master.query(
      "SELECT state, generation FROM archipelago.microshards WHERE microshard = 77",
    );
    expect(row).toEqual({ state: "sent", generation: 2 });
    await master.query(
      "UPDATE archipelago.microshards SET state = 'garbage' WHERE microshard = 77",
    );
    await master.query("DROP SCHEMA sh0077 CASCADE");
    await master.query("DELETE FROM archipelago.microshards WHERE microshard = 77");
  });
});

describe("allocation", () => {
  it("creates shard 0 on the global island and IDs that decode to their microshard", async () => {
    await allocateMicroshards(masters, { numbers: [0, 5], migrations: [] });
    const [global] = await cluster
      .master(1)
      .query<{ id: string }>("SELECT sh0000.archipelago_next_id()::text AS id");
    expect(microshardOfId(global?.id)).toBe(0);
    const placed = (await readCatalogs(masters)).find((r) => r.microshard === 5);
    const node = cluster.master(placed?.island ?? 0);
    const ids = await node.query<{ id: string }>(
      "SELECT sh0005.archipelago_next_id()::text AS id FROM generate_series(1, 3)",
    );
    expect(ids.map((r) => microshardOfId(r.id))).toEqual([5, 5, 5]);
    expect(ids.map((r) => parseId(r.id).sequence)).toEqual([1n, 2n, 3n]);
    // The generator keeps its own sequence whatever the caller's search_path.
    const other = await masters.withClient(placed?.island ?? 0, async (client) => {
      await client.query("SET search_path TO public");
      const { rows } = await client.query<{ id: string }>(
        "SELECT sh0005.archipelago_next_id()::text AS id",
      );
      await client.query("RESET search_path");
      return rows[0]?.id;
    });
    expect(microshardOfId(other)).toBe(5);
  });

  it("never creates a microshard twice when two allocators race", async () => {
    const before = new Set((await readCatalogs(masters)).map((r) => r.microshard));
    const second = new IslandMasters(cluster.config);
    try {
      const [a, b] = await Promise.all([
        allocateMicroshards(masters, { count: 6, migrations: [] }),
        allocateMicroshards(second, { count: 6, migrations: [] }),
      ]);
      const numbers = [...a.allocated, ...b.allocated].map((p) => p.microshard);
      expect(new Set(numbers).size).toBe(12);
      expect(numbers.some((n) => before.has(n))).toBe(false);
    } finally {
      await second.end();
    }
    const rows = await readCatalogs(masters);
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(r.microshard, (counts.get(r.microshard) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    // Placement is even across the two islands (counts differ by at most one).
    const perIsland = [1, 2].map(
      (i) => rows.filter((r) => r.island === i && r.microshard !== 0).length,
    );
    expect(Math.abs((perIsland[0] ?? 0) - (perIsland[1] ?? 0))).toBeLessThanOrEqual(1);
  });

  it("rejects a number that exists already and creates nothing", async () => {
    const before = await readCatalogs(masters);
    await expect(
      allocateMicroshards(masters, { numbers: [5, 4000], migrations: [] }),
    ).rejects.toMatchObject({
      code: "ALLOCATION_REFUSED",
    });
    expect(await readCatalogs(masters)).toEqual(before);
  });

  it("publishes the cluster map with a growing epoch to every island, visible on replicas", async () => {
    const rows = await readCatalogs(masters);
    const { epoch } = await publishClusterMap(masters);
    await cluster.waitForReplication();
    for (const island of [1, 2]) {
      for (const node of cluster.island(island).nodes) {
        const map = await node.query<{ microshard: number; island: number; epoch: string }>(
          "SELECT microshard, island, epoch FROM archipelago.cluster_map_active ORDER BY microshard",
        );
        expect(map.map((m) => [m.microshard, m.island])).toEqual(
          rows
            .filter((r) => r.state === "active")
            .sort((a, b) => a.microshard - b.microshard)
            .map((r) => [r.microshard, r.island]),
        );
        expect(new Set(map.map((m) => Number(m.epoch)))).toEqual(new Set([epoch]));
      }
    }
    // An older epoch is ignored.
    const [stale] = await cluster
      .master(2)
      .query("SELECT archipelago.publish_cluster_map(1, '[]') AS applied");
    expect(stale).toEqual({ applied: false });
  });

  it("catalog rows reach the replicas by physical replication", async () => {
    await cluster.waitForReplication();
    for (const island of [1, 2]) {
      const master = await cluster
        .master(island)
        .query("SELECT * FROM archipelago.microshards ORDER BY microshard");
      const replica = await cluster
        .replicas(island)[0]
        ?.query("SELECT * FROM archipelago.microshards ORDER BY microshard");
      expect(replica).toEqual(master);
      expect(master.length).toBeGreaterThan(0);
    }
  });
});
