/**
 * Batched point loads through the client, against what hand-written node-postgres can do with the same
 * plan, measured in the same run on the same machine and the same nodes (the island masters):
 *
 * - client:  `cluster.shardOf(id).load("items", "id", id, { role: "master" })`, 100 at once;
 * - ceiling: one pg.Pool per island master, placement known in advance, one statement per island per
 *            burst in the client's SQL shape (a plain SELECT for one microshard, else a UNION ALL of
 *            marked SELECTs), rows mapped back to the requests by hand. It is handed each ID's
 *            microshard, where the client parses (and validates) every ID; and it answers the burst
 *            as a whole, where the client's API answers each load with its own promise;
 * - naive:   one `SELECT * FROM shNNNN.items WHERE id = $1` per load, all 100 at once, on the same pools.
 *
 * Two burst shapes: 100 IDs of one microshard, and 100 IDs spread over 8 microshards on 2 islands.
 * Variants run interleaved in rounds (in a rotating order) so that machine noise hits them all alike.
 */
import { Cluster } from "@archipelago/client";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  parseMigration,
  readCatalogs,
} from "@archipelago/migrate";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { microshardSchema } from "@archipelago/topology";
import type pg from "pg";
import {
  BURST,
  type BurstVariant,
  ceilingVariant,
  checkBurst,
  type ItemRow,
  makeBurst,
  masterPools,
  measureVariants,
  random,
  SHAPES,
} from "./load-bursts.js";
import { figure } from "./report.js";

const MICROSHARDS = 8;
const ROWS_PER_MICROSHARD = 2_000;

const MIGRATIONS = [
  parseMigration(
    "0001_items.sharded.sql",
    `CREATE TABLE items (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       n integer,
       payload text
     );`,
  ),
];

type Item = ItemRow;
type Row = Record<string, unknown>;
type VariantName = "client" | "ceiling" | "naive";
const VARIANTS: readonly VariantName[] = ["client", "ceiling", "naive"];
type Variant = BurstVariant;

interface Fixture {
  readonly local: LocalCluster;
  /** microshard → island */
  readonly placement: Map<number, number>;
  /** microshard → its rows */
  readonly items: Map<number, Item[]>;
  readonly byId: Map<string, Item>;
}

async function setUp(local: LocalCluster): Promise<Fixture> {
  const masters = new IslandMasters(local.config);
  try {
    await installCatalog(masters);
    await allocateMicroshards(masters, { numbers: [0], migrations: MIGRATIONS });
    await allocateMicroshards(masters, { count: MICROSHARDS, migrations: MIGRATIONS });
    const placement = new Map(
      (await readCatalogs(masters))
        .filter((r) => r.microshard !== 0 && r.state === "active")
        .map((r) => [r.microshard, r.island]),
    );
    if (placement.size !== MICROSHARDS) throw new Error(`expected ${MICROSHARDS} microshards`);
    if (new Set(placement.values()).size !== 2)
      throw new Error("expected the microshards on both islands");
    const items = new Map<number, Item[]>();
    const byId = new Map<string, Item>();
    await Promise.all(
      [...placement].map(async ([microshard, island]) => {
        const pool = await masters.pool(island);
        const { rows } = await pool.query<Item>(
          `INSERT INTO ${microshardSchema(microshard)}.items (n, payload)
           SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, $1) g
           RETURNING id::text AS id, n, payload`,
          [ROWS_PER_MICROSHARD],
        );
        items.set(microshard, rows);
        for (const row of rows) byId.set(row.id, row);
      }),
    );
    await Promise.all(
      [...new Set(placement.values())].map(async (island) =>
        (await masters.pool(island)).query("VACUUM ANALYZE"),
      ),
    );
    await local.waitForReplication();
    return { local, placement, items, byId };
  } finally {
    await masters.end();
  }
}

function clientVariant(cluster: Cluster): Variant {
  return (burst) =>
    Promise.all(
      burst.ids.map((id) => cluster.shardOf(id).load<Row>("items", "id", id, { role: "master" })),
    );
}

/** One statement per load, all at once. */
function naiveVariant(pools: Map<number, pg.Pool>, placement: Map<number, number>): Variant {
  return (burst) =>
    Promise.all(
      burst.ids.map(async (id, i) => {
        const microshard = burst.microshards[i] as number;
        const pool = pools.get(placement.get(microshard) as number) as pg.Pool;
        const { rows } = await pool.query<Row>(
          `SELECT * FROM ${microshardSchema(microshard)}.items WHERE id = $1`,
          [id],
        );
        return rows[0];
      }),
    );
}

export async function benchClientLoads(): Promise<void> {
  const local = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  let pools = new Map<number, pg.Pool>();
  let cluster: Cluster | undefined;
  try {
    const fixture = await setUp(local);
    pools = masterPools(local, fixture.placement.values());
    cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000 });
    await cluster.rediscover();
    for (const [microshard, island] of fixture.placement) {
      const located = cluster.map.locate(microshard);
      if (located.kind !== "active" || located.island !== island)
        throw new Error(`the client places microshard ${microshard} wrongly`);
    }

    const variants: Record<VariantName, Variant> = {
      client: clientVariant(cluster),
      ceiling: ceilingVariant(pools, fixture.placement, (row) => row),
      naive: naiveVariant(pools, fixture.placement),
    };
    const next = random(42);

    // Round trips: one cross-microshard burst through the client, counted from its query events.
    const events: { island: number; batchSize: number }[] = [];
    const onQuery = (e: { island: number; batchSize: number }) => events.push(e);
    cluster.events.on("query", onQuery);
    const counted = makeBurst(fixture.items, "cross", next);
    checkBurst(fixture.byId, "client", counted, await variants.client(counted));
    cluster.events.off("query", onQuery);
    const roundtrips = events.length;
    console.log(
      `  one burst of ${BURST} loads over ${MICROSHARDS} microshards: ${roundtrips} statements ` +
        `(${events.map((e) => `island ${e.island}: ${e.batchSize} loads`).join(", ")})`,
    );

    const rate = await measureVariants(variants, VARIANTS, fixture, next);
    for (const shape of SHAPES)
      for (const name of VARIANTS)
        figure(`${name}_loads_per_s_${shape}`, Math.round(rate(shape, name)), "loads/s");
    figure(
      "client_vs_ceiling_single",
      (rate("single", "client") / rate("single", "ceiling")).toFixed(2),
      "ratio",
    );
    figure(
      "client_vs_ceiling_cross",
      (rate("cross", "client") / rate("cross", "ceiling")).toFixed(2),
      "ratio",
    );
    figure(
      "naive_vs_ceiling_single",
      (rate("single", "naive") / rate("single", "ceiling")).toFixed(2),
      "ratio",
    );
    figure(
      "naive_vs_ceiling_cross",
      (rate("cross", "naive") / rate("cross", "ceiling")).toFixed(2),
      "ratio",
    );
    figure("client_roundtrips_100x8", roundtrips, "count");
  } finally {
    await cluster?.end();
    await Promise.all([...pools.values()].map((p) => p.end()));
    await local.stop();
  }
}
