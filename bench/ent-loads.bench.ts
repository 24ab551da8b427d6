/**
 * Entity loads against the client's raw path and against hand-written node-postgres, in the same run,
 * on the same nodes (the island masters), 100 loads per burst:
 *
 * - ent:     `Item.load(vc, id)` with a fresh viewer per burst (a request) that has a principal and a
 *            read rule to pass: the whole entity path (ID check, viewer cache, batching, parsing the
 *            row into typed values, privacy);
 * - ent-omni: the same with the omni viewer (system jobs: no rule runs);
 * - client:  `cluster.shardOf(id).load("items", "id", id)`, raw rows;
 * - ceiling: one pg.Pool per island master, placement known in advance, one UNION ALL statement per
 *            island per burst (the client's SQL shape), rows mapped back and parsed by hand.
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
import pg from "pg";
import { z } from "zod";
import { figure, median } from "./report.js";

const MICROSHARDS = 8;
const ROWS_PER_MICROSHARD = 2_000;
const BURST = 100;
const POOL_SIZE = 10;
const WARMUP_BURSTS = 100;
const ROUNDS = 60;
const BURSTS_PER_ROUND = 10;

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

type Shape = "single" | "cross";
type VariantName = "ent" | "ent-omni" | "client" | "ceiling";
const VARIANTS: readonly VariantName[] = ["ent", "ent-omni", "client", "ceiling"];
const SHAPES: readonly Shape[] = ["single", "cross"];

interface Burst {
  readonly ids: readonly string[];
  readonly microshards: readonly number[];
}

type Loaded = { readonly id: unknown; readonly n: unknown; readonly payload: unknown } | undefined;
type Variant = (burst: Burst) => Promise<readonly Loaded[]>;

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

function check(fixture: Fixture, variant: string, burst: Burst, rows: readonly Loaded[]): void {
  if (rows.length !== burst.ids.length) throw new Error(`${variant}: wrong number of results`);
  burst.ids.forEach((id, i) => {
    const row = rows[i];
    const expected = fixture.byId.get(id) as Item;
    if (!row || String(row.id) !== id || row.n !== expected.n || row.payload !== expected.payload) {
      throw new Error(`${variant}: load of ${id} returned ${JSON.stringify(row)}`);
    }
  });
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
    ) as Promise<Loaded[]>;
}

/** Hand-written: the client's plan and SQL with the placement known in advance; rows parsed. */
function ceilingVariant(pools: Map<number, pg.Pool>, placement: Map<number, number>): Variant {
  return async (burst) => {
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
    const found = new Map<string, Item>();
    await Promise.all(
      [...plan].map(async ([island, byMicroshard]) => {
        const parts: string[] = [];
        const params: string[][] = [];
        for (const [microshard, values] of byMicroshard) {
          params.push(values);
          parts.push(
            `SELECT ${microshard} AS "__microshard", t.* FROM ${microshardSchema(microshard)}.items t WHERE t.id = ANY($${params.length})`,
          );
        }
        const { rows } = await (pools.get(island) as pg.Pool).query<Record<string, unknown>>(
          parts.join("\nUNION ALL\n"),
          params,
        );
        for (const row of rows) {
          found.set(`${row.__microshard}:${row.id}`, {
            id: String(row.id),
            owner: row.owner as string,
            n: row.n as number,
            payload: row.payload as string,
            createdAt: row.created_at as Date,
          });
        }
      }),
    );
    return burst.ids.map((id, i) => found.get(`${burst.microshards[i]}:${id}`));
  };
}

export async function benchEntLoads(): Promise<void> {
  // No replicas: every variant reads from the masters, so replica choice is not compared.
  const local = await startLocalCluster({ islands: 2, replicasPerIsland: 0 });
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

    const variants: Record<VariantName, Variant> = {
      ent: entVariant(cluster, false),
      "ent-omni": entVariant(cluster, true),
      client: clientVariant(cluster),
      ceiling: ceilingVariant(pools, fixture.placement),
    };
    const next = random(42);

    const events: { island: number; batchSize: number }[] = [];
    const onQuery = (e: { island: number; batchSize: number }) => events.push(e);
    cluster.events.on("query", onQuery);
    const counted = makeBurst(fixture, "cross", next);
    check(fixture, "ent", counted, await variants.ent(counted));
    cluster.events.off("query", onQuery);
    const statements = events.length;
    console.log(
      `  one burst of ${BURST} entity loads over ${MICROSHARDS} microshards: ${statements} statements ` +
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
    /** This process's CPU time (user + system) during each variant's bursts, in µs. */
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
            const key = `${shape}/${name}`;
            cpu.set(key, (cpu.get(key) ?? 0) + used.user + used.system);
            check(fixture, name, burst, rows);
          }
        }
      }
    }

    const rates = new Map<string, number>();
    for (const shape of SHAPES) {
      for (const name of VARIANTS) {
        const samples = durations.get(`${shape}/${name}`) as number[];
        const total = samples.reduce((a, b) => a + b, 0);
        const rate = (samples.length * BURST) / (total / 1000);
        rates.set(`${shape}/${name}`, rate);
        console.log(
          `  ${shape.padEnd(6)} ${name.padEnd(8)} ${samples.length} bursts: ${Math.round(rate)} loads/s, ` +
            `burst p50 ${median(samples).toFixed(2)} ms, ` +
            `client-process CPU ${Math.round((cpu.get(`${shape}/${name}`) as number) / samples.length)} µs/burst`,
        );
      }
    }
    const rate = (shape: Shape, name: VariantName) => rates.get(`${shape}/${name}`) as number;
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
