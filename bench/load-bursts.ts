/**
 * What the point-load benchmarks (client-loads, ent-loads) share: the bursts of IDs they draw, the
 * check that a variant answered every load right, and the hand-written ceiling they are measured
 * against, so that both compare with one and the same baseline.
 */
import type { LocalCluster } from "@archipelago/testkit";
import { microshardSchema } from "@archipelago/topology";
import pg from "pg";
import { median } from "./report.js";

/** Loads per burst. */
export const BURST = 100;

export type Shape = "single" | "cross";
export const SHAPES: readonly Shape[] = ["single", "cross"];

export interface Burst {
  /** Every ID of the burst with its microshard (known in advance by the hand-written variants). */
  readonly ids: readonly string[];
  readonly microshards: readonly number[];
}

/** A row as the benchmarks check it: the `items` table's id, n and payload. */
export interface ItemRow {
  readonly id: string;
  readonly n: number;
  readonly payload: string;
}

/** What a variant answers for one load (raw or parsed; checked by `checkBurst`). */
type Loaded =
  | { readonly id?: unknown; readonly n?: unknown; readonly payload?: unknown }
  | undefined;

/** A deterministic pseudo-random source, so runs draw the same IDs. */
export function random(seed: number): () => number {
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

/** Distinct random IDs: BURST of one microshard, or BURST spread evenly over every microshard. */
export function makeBurst(
  items: ReadonlyMap<number, readonly ItemRow[]>,
  shape: Shape,
  next: () => number,
): Burst {
  const all = [...items.keys()];
  const chosen = shape === "single" ? [pick(all, next)] : all;
  const ids: string[] = [];
  const microshards: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; ids.length < BURST; i++) {
    const microshard = chosen[i % chosen.length] as number;
    const item = pick(items.get(microshard) as readonly ItemRow[], next);
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    ids.push(item.id);
    microshards.push(microshard);
  }
  return { ids, microshards };
}

/** Throws unless `rows` answers every load of the burst with its own row. */
export function checkBurst(
  byId: ReadonlyMap<string, ItemRow>,
  variant: string,
  burst: Burst,
  rows: readonly Loaded[],
): void {
  if (rows.length !== burst.ids.length)
    throw new Error(`${variant}: ${rows.length} results for ${burst.ids.length} loads`);
  burst.ids.forEach((id, i) => {
    const row = rows[i];
    const expected = byId.get(id) as ItemRow;
    if (!row || String(row.id) !== id || row.n !== expected.n || row.payload !== expected.payload) {
      throw new Error(
        `${variant}: load ${i} of id ${id} returned ${JSON.stringify(row)}, expected ${JSON.stringify(expected)}`,
      );
    }
  });
}

/**
 * The ceiling: hand-written node-postgres with the client's plan and SQL and the placement known in
 * advance: one statement per island per burst (a plain SELECT for one microshard, else a UNION ALL of
 * marked SELECTs), rows mapped back to the loads by hand, each through `mapRow` (the entity benchmark
 * parses rows there, as the entity layer does).
 */
export function ceilingVariant<R>(
  pools: ReadonlyMap<number, pg.Pool>,
  placement: ReadonlyMap<number, number>,
  mapRow: (row: Record<string, unknown>) => R,
): (burst: Burst) => Promise<(R | undefined)[]> {
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
    const found = new Map<string, R>();
    await Promise.all(
      [...plan].map(async ([island, byMicroshard]) => {
        const pool = pools.get(island) as pg.Pool;
        if (byMicroshard.size === 1) {
          const [microshard, values] = [...byMicroshard][0] as [number, string[]];
          const { rows } = await pool.query<Record<string, unknown>>(
            `SELECT t.* FROM ${microshardSchema(microshard)}.items t WHERE t.id = ANY($1)`,
            [values],
          );
          for (const row of rows) found.set(`${microshard}:${row.id}`, mapRow(row));
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
        const { rows } = await pool.query<Record<string, unknown>>(
          parts.join("\nUNION ALL\n"),
          params,
        );
        for (const row of rows) found.set(`${row.__microshard}:${row.id}`, mapRow(row));
      }),
    );
    return burst.ids.map((id, i) => found.get(`${burst.microshards[i]}:${id}`));
  };
}

/** Connections per pool of the hand-written variants: the client's default pool size. */
const POOL_SIZE = 10;
const WARMUP_BURSTS = 100;
const ROUNDS = 60;
const BURSTS_PER_ROUND = 10;

/** One pg.Pool per island master, for the hand-written variants. */
export function masterPools(local: LocalCluster, islands: Iterable<number>): Map<number, pg.Pool> {
  const pools = new Map<number, pg.Pool>();
  for (const island of new Set(islands)) {
    const pool = new pg.Pool({
      ...local.master(island).connection(),
      max: POOL_SIZE,
      application_name: "archipelago-bench",
    });
    pool.on("error", () => {});
    pools.set(island, pool);
  }
  return pools;
}

export type BurstVariant = (burst: Burst) => Promise<readonly Loaded[]>;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Warms every variant up, then runs them interleaved in rounds (in a rotating order, so machine noise
 * hits them all alike), checking every answer; prints each variant's rate, latency and this process's
 * CPU per burst, and returns loads per second by shape and variant.
 */
export async function measureVariants<N extends string>(
  variants: Readonly<Record<N, BurstVariant>>,
  names: readonly N[],
  data: { items: ReadonlyMap<number, readonly ItemRow[]>; byId: ReadonlyMap<string, ItemRow> },
  next: () => number,
): Promise<(shape: Shape, name: N) => number> {
  const run = async (shape: Shape, name: N) => {
    const burst = makeBurst(data.items, shape, next);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const rows = await variants[name](burst);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpuBefore);
    checkBurst(data.byId, name, burst, rows);
    return { ms, cpuMicros: used.user + used.system };
  };
  for (const shape of SHAPES)
    for (const name of names) for (let i = 0; i < WARMUP_BURSTS; i++) await run(shape, name);

  const samples = new Map<string, { ms: number[]; cpuMicros: number }>();
  for (const shape of SHAPES)
    for (const name of names) samples.set(`${shape}/${name}`, { ms: [], cpuMicros: 0 });
  for (let round = 0; round < ROUNDS; round++) {
    for (const shape of SHAPES) {
      for (let v = 0; v < names.length; v++) {
        const name = names[(v + round) % names.length] as N;
        const mine = samples.get(`${shape}/${name}`) as { ms: number[]; cpuMicros: number };
        for (let b = 0; b < BURSTS_PER_ROUND; b++) {
          const { ms, cpuMicros } = await run(shape, name);
          mine.ms.push(ms);
          mine.cpuMicros += cpuMicros;
        }
      }
    }
  }

  const rates = new Map<string, number>();
  for (const shape of SHAPES) {
    for (const name of names) {
      const { ms, cpuMicros } = samples.get(`${shape}/${name}`) as {
        ms: number[];
        cpuMicros: number;
      };
      const total = ms.reduce((a, b) => a + b, 0);
      const rate = (ms.length * BURST) / (total / 1000);
      rates.set(`${shape}/${name}`, rate);
      console.log(
        `  ${shape.padEnd(6)} ${name.padEnd(8)} ${ms.length} bursts: ${Math.round(rate)} loads/s, ` +
          `burst p50 ${median(ms).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms, ` +
          `client-process CPU ${Math.round(cpuMicros / ms.length)} µs/burst`,
      );
    }
  }
  return (shape, name) => rates.get(`${shape}/${name}`) as number;
}
