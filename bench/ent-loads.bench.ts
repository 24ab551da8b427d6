/**
 * Entity loads against the client's raw path and against hand-written node-postgres, in the same run,
 * on the same nodes (the island masters), 100 loads per burst:
 *
 * - ent:     `Item.load(vc, id)` with a fresh viewer per burst (a request) that has a principal and a
 *            read rule to pass: the whole entity path (ID check, viewer cache, batching, parsing the
 *            row into typed values, privacy);
 * - ent-omni: the same with the omni viewer (system jobs: no rule runs);
 * - client:  `cluster.shardOf(id).load("items", "id", id)`, raw rows;
 * - ceiling: the client-loads benchmark's ceiling (load-bursts.ts: one pg.Pool per island master,
 *            placement known in advance, one statement per island per burst in the client's SQL
 *            shape), rows mapped back and parsed by hand into what the entity layer returns.
 *
 * Two burst shapes: 100 IDs of one microshard, and 100 IDs spread over 8 microshards on 2 islands.
 * Variants run interleaved in rounds (in a rotating order) so that machine noise hits them all alike.
 * The islands have no replicas, so every variant reads from the masters.
 */
import { Cluster } from "@archipelago/client";
import { dbDefault, defineEnt, Viewer } from "@archipelago/ent";
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
import { z } from "zod";
import {
  BURST,
  type BurstVariant,
  ceilingVariant,
  checkBurst,
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
       owner text NOT NULL,
       n integer NOT NULL,
       payload text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now()
     );`,
  ),
];

const OWNER = "1000100000000000001";

const Item = defineEnt({
  name: "Item",
  table: "items",
  fields: {
    owner: z.string(),
    n: z.number().int(),
    payload: z.string(),
    createdAt: dbDefault(z.date()),
  },
  shard: "random",
  privacy: { read: [{ name: "owner", allowIf: (vc, row) => vc.principal === row.owner }] },
});

interface Item {
  readonly id: string;
  readonly owner: string;
  readonly n: number;
  readonly payload: string;
  readonly createdAt: Date;
}

type VariantName = "ent" | "ent-omni" | "client" | "ceiling";
const VARIANTS: readonly VariantName[] = ["ent", "ent-omni", "client", "ceiling"];

type Variant = BurstVariant;

interface Fixture {
  readonly placement: Map<number, number>;
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
    if (new Set(placement.values()).size !== 2) throw new Error("expected both islands used");
    const items = new Map<number, Item[]>();
    const byId = new Map<string, Item>();
    await Promise.all(
      [...placement].map(async ([microshard, island]) => {
        const pool = await masters.pool(island);
        const { rows } = await pool.query<Item>(
          `INSERT INTO ${microshardSchema(microshard)}.items (owner, n, payload)
           SELECT $2, g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, $1) g
           RETURNING id::text AS id, owner, n, payload, created_at AS "createdAt"`,
          [ROWS_PER_MICROSHARD, OWNER],
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
    return { placement, items, byId };
  } finally {
    await masters.end();
  }
}

function entVariant(cluster: Cluster, omni: boolean): Variant {
  return (burst) => {
    // A request's viewer: new for each burst.
    const vc = omni ? Viewer.omni(cluster) : Viewer.of(cluster, OWNER);
    return Promise.all(burst.ids.map((id) => Item.load(vc, id)));
  };
}

function clientVariant(cluster: Cluster): Variant {
  return (burst) =>
    Promise.all(
      burst.ids.map((id) => cluster.shardOf(id).load<Record<string, unknown>>("items", "id", id)),
    );
}

/** The ceiling's rows, parsed by hand into what the entity layer returns. */
function parseItem(row: Record<string, unknown>): Item {
  return {
    id: String(row.id),
    owner: row.owner as string,
    n: row.n as number,
    payload: row.payload as string,
    createdAt: row.created_at as Date,
  };
}

export async function benchEntLoads(): Promise<void> {
  // No replicas: every variant reads from the masters, so replica choice is not compared.
  const local = await startLocalCluster({ islands: 2, replicasPerIsland: 0 });
  let pools = new Map<number, pg.Pool>();
  let cluster: Cluster | undefined;
  try {
    const fixture = await setUp(local);
    pools = masterPools(local, fixture.placement.values());
    cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000 });
    await cluster.rediscover();

    const variants: Record<VariantName, Variant> = {
      ent: entVariant(cluster, false),
      "ent-omni": entVariant(cluster, true),
      client: clientVariant(cluster),
      ceiling: ceilingVariant(pools, fixture.placement, parseItem),
    };
    const next = random(42);

    const events: { island: number; batchSize: number }[] = [];
    const onQuery = (e: { island: number; batchSize: number }) => events.push(e);
    cluster.events.on("query", onQuery);
    const counted = makeBurst(fixture.items, "cross", next);
    checkBurst(fixture.byId, "ent", counted, await variants.ent(counted));
    cluster.events.off("query", onQuery);
    const statements = events.length;
    console.log(
      `  one burst of ${BURST} entity loads over ${MICROSHARDS} microshards: ${statements} statements ` +
        `(${events.map((e) => `island ${e.island}: ${e.batchSize} loads`).join(", ")})`,
    );

    const rate = await measureVariants(variants, VARIANTS, fixture, next);
    for (const shape of SHAPES) {
      figure(`ent_loads_per_s_${shape}`, Math.round(rate(shape, "ent")), "loads/s");
      figure(
        `ent_vs_client_${shape}`,
        (rate(shape, "ent") / rate(shape, "client")).toFixed(2),
        "ratio",
      );
      figure(
        `ent_omni_vs_ceiling_${shape}`,
        (rate(shape, "ent-omni") / rate(shape, "ceiling")).toFixed(2),
        "ratio",
      );
    }
    figure(
      "ent_vs_ceiling_single",
      (rate("single", "ent") / rate("single", "ceiling")).toFixed(2),
      "ratio",
    );
    figure(
      "ent_vs_ceiling_cross",
      (rate("cross", "ent") / rate("cross", "ceiling")).toFixed(2),
      "ratio",
    );
    figure("ent_statements_100x8", statements, "count");
  } finally {
    await cluster?.end();
    await Promise.all([...pools.values()].map((p) => p.end()));
    await local.stop();
  }
}
