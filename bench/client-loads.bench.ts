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
import pg from "pg";
import { figure, median } from "./report.js";

const MICROSHARDS = 8;
const ROWS_PER_MICROSHARD = 2_000;
const BURST = 100;
/** Same as the client's default pool size, so that the naive variant gets as many connections. */
const POOL_SIZE = 10;
const WARMUP_BURSTS = 100;
const ROUNDS = 60;
const BURSTS_PER_ROUND = 10;

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

interface Item {
  readonly id: string;
  readonly n: number;
  readonly payload: string;
}

type Row = Record<string, unknown>;
type Shape = "single" | "cross";
type VariantName = "client" | "ceiling" | "naive";
const VARIANTS: readonly VariantName[] = ["client", "ceiling", "naive"];
const SHAPES: readonly Shape[] = ["single", "cross"];

interface Burst {
  /** Every ID of the burst with its microshard (known in advance by the hand-written variants). */
  readonly ids: readonly string[];
  readonly microshards: readonly number[];
}

type Variant = (burst: Burst) => Promise<readonly (Row | undefined)[]>;

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

/** A deterministic pseudo-random source, so runs draw the same IDs. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(values: readonly T[], next: () => number): T {
  return values[Math.floor(next() * values.length)] as T;
}

/** Distinct random IDs: 100 of one microshard, or 100 spread evenly over every microshard. */
function makeBurst(fixture: Fixture, shape: Shape, next: () => number): Burst {
  const all = [...fixture.items.keys()];
  const chosen = shape === "single" ? [pick(all, next)] : all;
  const ids: string[] = [];
  const microshards: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; ids.length < BURST; i++) {
    const microshard = chosen[i % chosen.length] as number;
    const item = pick(fixture.items.get(microshard) as Item[], next);
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    ids.push(item.id);
    microshards.push(microshard);
  }
  return { ids, microshards };
}

function check(
  fixture: Fixture,
  variant: string,
  burst: Burst,
  rows: readonly (Row | undefined)[],
) {
  if (rows.length !== burst.ids.length)
    throw new Error(`${variant}: ${rows.length} results for ${burst.ids.length} loads`);
  burst.ids.forEach((id, i) => {
    const row = rows[i];
    const expected = fixture.byId.get(id) as Item;
    if (!row || String(row.id) !== id || row.n !== expected.n || row.payload !== expected.payload) {
      throw new Error(
        `${variant}: load ${i} of id ${id} returned ${JSON.stringify(row)}, expected ${JSON.stringify(expected)}`,
      );
    }
  });
}

function clientVariant(cluster: Cluster): Variant {
  return (burst) =>
    Promise.all(
      burst.ids.map((id) => cluster.shardOf(id).load<Row>("items", "id", id, { role: "master" })),
    );
}

/** Hand-written: the client's plan and SQL, with the placement known in advance. */
function ceilingVariant(pools: Map<number, pg.Pool>, placement: Map<number, number>): Variant {
  return async (burst) => {
    // island → microshard → values
    const plan = new Map<number, Map<number, string[]>>();
    for (let i = 0; i < burst.ids.length; i++) {
      const microshard = burst.microshards[i] as number;
      const island = placement.get(microshard) as number;
      let byMicroshard = plan.get(island);
      if (!byMicroshard) {
        byMicroshard = new Map();
        plan.set(island, byMicroshard);
      }
      let values = byMicroshard.get(microshard);
      if (!values) {
        values = [];
        byMicroshard.set(microshard, values);
      }
      values.push(burst.ids[i] as string);
    }
    const found = new Map<string, Row>();
    await Promise.all(
      [...plan].map(async ([island, byMicroshard]) => {
        const pool = pools.get(island) as pg.Pool;
        if (byMicroshard.size === 1) {
          const [microshard, values] = [...byMicroshard][0] as [number, string[]];
          const { rows } = await pool.query<Row>(
            `SELECT t.* FROM ${microshardSchema(microshard)}.items t WHERE t.id = ANY($1)`,
            [values],
          );
          for (const row of rows) found.set(`${microshard}:${row.id}`, row);
          return;
        }
        const parts: string[] = [];
        const params: string[][] = [];
        for (const [microshard, values] of byMicroshard) {
          params.push(values);
          parts.push(
            `SELECT ${microshard} AS "__microshard", t.* FROM ${microshardSchema(microshard)}.items t WHERE t.id = ANY($${params.length})`,
          );
        }
        const { rows } = await pool.query<Row>(parts.join("\nUNION ALL\n"), params);
        for (const row of rows) found.set(`${row.__microshard}:${row.id}`, row);
      }),
    );
    return burst.ids.map((id, i) => found.get(`${burst.microshards[i]}:${id}`));
  };
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

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function benchClientLoads(): Promise<void> {
  const local = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  const pools = new Map<number, pg.Pool>();
  let cluster: Cluster | undefined;
  try {
    const fixture = await setUp(local);
    for (const island of new Set(fixture.placement.values())) {
      const pool = new pg.Pool({
        ...local.master(island).connection(),
        max: POOL_SIZE,
        application_name: "archipelago-bench",
      });
      pool.on("error", () => {});
      pools.set(island, pool);
    }
    cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000 });
    await cluster.rediscover();
    for (const [microshard, island] of fixture.placement) {
      const located = cluster.map.locate(microshard);
      if (located.kind !== "active" || located.island !== island)
        throw new Error(`the client places microshard ${microshard} wrongly`);
    }

    const variants: Record<VariantName, Variant> = {
      client: clientVariant(cluster),
      ceiling: ceilingVariant(pools, fixture.placement),
      naive: naiveVariant(pools, fixture.placement),
    };
    const next = random(42);

    // Round trips: one cross-microshard burst through the client, counted from its query events.
    const events: { island: number; batchSize: number }[] = [];
    const onQuery = (e: { island: number; batchSize: number }) => events.push(e);
    cluster.events.on("query", onQuery);
    const counted = makeBurst(fixture, "cross", next);
    check(fixture, "client", counted, await variants.client(counted));
    cluster.events.off("query", onQuery);
    const roundtrips = events.length;
    console.log(
      `  one burst of ${BURST} loads over ${MICROSHARDS} microshards: ${roundtrips} statements ` +
        `(${events.map((e) => `island ${e.island}: ${e.batchSize} loads`).join(", ")})`,
    );

    for (const shape of SHAPES) {
      for (const name of VARIANTS) {
        for (let i = 0; i < WARMUP_BURSTS; i++) {
          const burst = makeBurst(fixture, shape, next);
          check(fixture, name, burst, await variants[name](burst));
        }
      }
    }

    const durations = new Map<string, number[]>();
    /** This process's CPU time (user + system) spent during each variant's bursts, in µs. */
    const cpu = new Map<string, number>();
    for (const shape of SHAPES) for (const name of VARIANTS) durations.set(`${shape}/${name}`, []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const shape of SHAPES) {
        for (let v = 0; v < VARIANTS.length; v++) {
          const name = VARIANTS[(v + round) % VARIANTS.length] as VariantName;
          const samples = durations.get(`${shape}/${name}`) as number[];
          for (let b = 0; b < BURSTS_PER_ROUND; b++) {
            const burst = makeBurst(fixture, shape, next);
            const cpuBefore = process.cpuUsage();
            const started = performance.now();
            const rows = await variants[name](burst);
            samples.push(performance.now() - started);
            const used = process.cpuUsage(cpuBefore);
            cpu.set(
              `${shape}/${name}`,
              (cpu.get(`${shape}/${name}`) ?? 0) + used.user + used.system,
            );
            check(fixture, name, burst, rows);
          }
        }
      }
    }

    const loadsPerSecond = new Map<string, number>();
    for (const shape of SHAPES) {
      for (const name of VARIANTS) {
        const samples = durations.get(`${shape}/${name}`) as number[];
        const total = samples.reduce((a, b) => a + b, 0);
        const rate = (samples.length * BURST) / (total / 1000);
        loadsPerSecond.set(`${shape}/${name}`, rate);
        console.log(
          `  ${shape.padEnd(6)} ${name.padEnd(7)} ${samples.length} bursts: ` +
            `${Math.round(rate)} loads/s, burst p50 ${median(samples).toFixed(2)} ms, ` +
            `p99 ${percentile(samples, 99).toFixed(2)} ms, ` +
            `client-process CPU ${Math.round((cpu.get(`${shape}/${name}`) as number) / samples.length)} µs/burst`,
        );
      }
    }
    const rate = (shape: Shape, name: VariantName) =>
      loadsPerSecond.get(`${shape}/${name}`) as number;
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
