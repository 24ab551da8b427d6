/**
 * The mover, measured on a real 2×1 cluster (two islands, one replica each) on this machine:
 *
 * 1. Copy throughput. A microshard holding COPY_ROWS rows (~40 MB) is moved, and the mover's
 *    `initial-copy` step is timed (from the `beforeStep` hook of `initial-copy` to that of `catch-up`;
 *    the subscription, whose table sync does the copy, is created at the very end of the step before).
 *    The baseline is a plain `COPY sh.items TO STDOUT` piped by node-postgres (pg-copy-streams) into
 *    `COPY raw_copy.items FROM STDIN` on the other island's master, into a fresh table with the same
 *    columns and primary key as the move's target, in the same run. COPY_ROUNDS rounds, each a raw copy
 *    then a move in the same direction (alternately 1→2 and 2→1), with VACUUM and CHECKPOINT before
 *    each copy so that neither variant pays for the other's hint bits or dirty buffers. Both rates are
 *    counted on the same rows and COPY-text bytes, so the ratio move / raw is raw time / move time.
 *
 * 2. Idle switch check. A move of an idle microshard on an otherwise idle source island, with short
 *    switch limits: the switch must complete without any other write traffic to confirm its final
 *    position (it once waited for WAL that nothing flushed, and every such move aborted).
 *
 * 3. Write-block window. Another microshard is moved back and forth MOVES times while WRITERS client
 *    writers insert into it without pause (`{ write: true, idempotent: true }`, unique keys, ON
 *    CONFLICT DO NOTHING); each move is followed by `mover.cleanup(job.id)`. Reported: the jobs'
 *    `writeBlockMs` (the mover's own measure: write locks granted → target active, successful switch
 *    attempt only), the longest write the app saw, switch retries, app errors, and whether every
 *    acknowledged write is on the final copy.
 */

import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Cluster } from "@archipelago/client";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  parseMigration,
  readCatalogs,
} from "@archipelago/migrate";
import {
  type JobRecord,
  MOVE_STEPS,
  MoveAbortedError,
  Mover,
  type MoveStep,
} from "@archipelago/rebalancer";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { microshardSchema } from "@archipelago/topology";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { figure, median } from "./report.js";

const COPY_ROWS = 200_000;
/** 5 × 32 hex characters: ~190 bytes of COPY text per row, ~40 MB for the table. */
const PAYLOAD_SQL = "repeat(md5(g::text), 5)";
const COPY_ROUNDS = 4;
const MOVES = 20;
const WRITERS = 4;
const LOAD_SEED_ROWS = 5_000;

const MIGRATIONS = [
  parseMigration(
    "0001_items.sharded.sql",
    `CREATE TABLE items (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       n integer NOT NULL,
       payload text NOT NULL
     );`,
  ),
  parseMigration(
    "0002_writes.sharded.sql",
    `CREATE TABLE writes (
       key text PRIMARY KEY,
       at timestamptz NOT NULL DEFAULT now()
     );`,
  ),
];

/** The raw copy's target: the same columns and primary key as the move's target table. */
const RAW_SCHEMA = "raw_copy";
const RAW_TABLE_DDL = `CREATE TABLE ${RAW_SCHEMA}.items (id bigint PRIMARY KEY, n integer NOT NULL, payload text NOT NULL)`;

const MB = 1024 * 1024;

function log(line: string): void {
  console.log(`  ${line}`);
}

function other(island: number): number {
  return island === 1 ? 2 : 1;
}

async function onMaster<Row extends Record<string, unknown> = Record<string, unknown>>(
  local: LocalCluster,
  island: number,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({
    ...local.master(island).connection(),
    application_name: "archipelago-bench",
  });
  await client.connect();
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** VACUUM the table about to be read and CHECKPOINT both masters, so each copy starts alike. */
async function settle(local: LocalCluster, island: number, schema: string): Promise<void> {
  await onMaster(local, island, `VACUUM ANALYZE ${schema}.items`);
  await Promise.all([1, 2].map((i) => onMaster(local, i, "CHECKPOINT")));
  await local.waitForReplication();
}

interface CopyRun {
  readonly ms: number;
  readonly rows: number;
  readonly bytes: number;
}

/** `COPY … TO STDOUT` on one master piped into `COPY … FROM STDIN` on the other. */
async function rawCopy(
  local: LocalCluster,
  from: number,
  schema: string,
  to: number,
): Promise<CopyRun> {
  await onMaster(local, to, `DROP SCHEMA IF EXISTS ${RAW_SCHEMA} CASCADE`);
  await onMaster(local, to, `CREATE SCHEMA ${RAW_SCHEMA}`);
  await onMaster(local, to, RAW_TABLE_DDL);
  const source = new pg.Client({ ...local.master(from).connection(), application_name: "raw" });
  const target = new pg.Client({ ...local.master(to).connection(), application_name: "raw" });
  await Promise.all([source.connect(), target.connect()]);
  try {
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const started = performance.now();
    const out = source.query(copyTo(`COPY ${schema}.items TO STDOUT`));
    const into = target.query(copyFrom(`COPY ${RAW_SCHEMA}.items FROM STDIN`));
    await pipeline(out, counter, into);
    const ms = performance.now() - started;
    return { ms, rows: into.rowCount, bytes };
  } finally {
    await Promise.all([source.end(), target.end()]);
    await onMaster(local, to, `DROP SCHEMA IF EXISTS ${RAW_SCHEMA} CASCADE`);
  }
}

interface TimedMove {
  readonly job: JobRecord;
  /** performance.now() at each step's start (the mover's `beforeStep` hook). */
  readonly stepStarts: Map<MoveStep, number>;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Progress events of the initial-copy step: first/last time, the most bytes and rows seen. */
  readonly copyEvents: { first: number; last: number; count: number; bytes: number; rows: number };
  /** Switch attempts that gave up (lock timeout or the target not confirming in time). */
  readonly switchRetries: number;
}

async function timedMove(
  local: LocalCluster,
  masters: IslandMasters,
  microshard: number,
  target: number,
): Promise<TimedMove> {
  const stepStarts = new Map<MoveStep, number>();
  const copyEvents = { first: 0, last: 0, count: 0, bytes: 0, rows: 0 };
  const mover = new Mover({
    config: local.config,
    masters,
    beforeStep: async (step) => {
      stepStarts.set(step, performance.now());
    },
    onProgress: (p) => {
      if (p.step !== "initial-copy") return;
      const now = performance.now();
      if (copyEvents.count === 0) copyEvents.first = now;
      copyEvents.last = now;
      copyEvents.count++;
      copyEvents.bytes = Math.max(copyEvents.bytes, p.copiedBytes ?? 0);
      copyEvents.rows = Math.max(copyEvents.rows, p.copiedRows ?? 0);
    },
  });
  const startedAt = performance.now();
  const job = await mover.move(microshard, target);
  const endedAt = performance.now();
  await mover.cleanup(job.id);
  const switchRetries = job.history.filter((h) => h.type === "switch-retry").length;
  return { job, stepStarts, startedAt, endedAt, copyEvents, switchRetries };
}

function stepMs(move: TimedMove, step: MoveStep, next: MoveStep): number {
  return (move.stepStarts.get(next) as number) - (move.stepStarts.get(step) as number);
}

function stepBreakdown(move: TimedMove): string {
  const steps: readonly MoveStep[] = MOVE_STEPS;
  const parts: string[] = [];
  for (let i = 0; i < steps.length - 1; i++) {
    const a = steps[i] as MoveStep;
    const b = steps[i + 1] as MoveStep;
    if (move.stepStarts.has(a) && move.stepStarts.has(b))
      parts.push(`${a} ${Math.round(stepMs(move, a, b))}`);
  }
  const last = move.stepStarts.get("completed");
  if (last !== undefined) parts.push(`finish ${Math.round(move.endedAt - last)}`);
  return `${parts.join(", ")} ms`;
}

async function placementOf(masters: IslandMasters, microshard: number): Promise<number> {
  const row = (await readCatalogs(masters)).find(
    (r) => r.microshard === microshard && r.state === "active",
  );
  if (!row) throw new Error(`microshard ${microshard} is active nowhere`);
  return row.island;
}

async function benchCopy(local: LocalCluster, masters: IslandMasters, microshard: number) {
  const schema = microshardSchema(microshard);
  let island = await placementOf(masters, microshard);
  const started = performance.now();
  await onMaster(
    local,
    island,
    `INSERT INTO ${schema}.items (n, payload) SELECT g, ${PAYLOAD_SQL} FROM generate_series(1, $1) g`,
    [COPY_ROWS],
  );
  const [size] = await onMaster<{ table: string; total: string }>(
    local,
    island,
    `SELECT pg_table_size('${schema}.items')::text AS table, pg_total_relation_size('${schema}.items')::text AS total`,
  );
  log(
    `seeded ${COPY_ROWS} rows in ${schema}.items on island ${island} in ${Math.round(performance.now() - started)} ms ` +
      `(heap ${(Number(size?.table) / MB).toFixed(1)} MB, with index ${(Number(size?.total) / MB).toFixed(1)} MB)`,
  );

  const raw: CopyRun[] = [];
  const moves: { ms: number; wholeMs: number; sinceReplicationMs: number }[] = [];
  for (let round = 1; round <= COPY_ROUNDS; round++) {
    const target = other(island);
    await settle(local, island, schema);
    const r = await rawCopy(local, island, schema, target);
    if (r.rows !== COPY_ROWS) throw new Error(`raw copy copied ${r.rows} rows, not ${COPY_ROWS}`);
    raw.push(r);
    log(
      `round ${round} raw copy  ${island}→${target}: ${Math.round(r.ms)} ms, ` +
        `${Math.round(r.rows / (r.ms / 1000))} rows/s, ${(r.bytes / MB / (r.ms / 1000)).toFixed(1)} MB/s ` +
        `(${(r.bytes / MB).toFixed(1)} MB of COPY text)`,
    );
    await settle(local, island, schema);
    const m = await timedMove(local, masters, microshard, target);
    if (m.job.state !== "completed") throw new Error(`move job ${m.job.id} is ${m.job.state}`);
    const ms = stepMs(m, "initial-copy", "catch-up");
    const sinceReplicationMs = stepMs(m, "start-replication", "catch-up");
    const wholeMs = m.endedAt - m.startedAt;
    moves.push({ ms, wholeMs, sinceReplicationMs });
    const [count] = await onMaster<{ c: string }>(
      local,
      target,
      `SELECT count(*)::text AS c FROM ${schema}.items`,
    );
    if (Number(count?.c) !== COPY_ROWS)
      throw new Error(`the moved copy holds ${count?.c} rows, not ${COPY_ROWS}`);
    log(
      `round ${round} move      ${island}→${target}: initial-copy step ${Math.round(ms)} ms ` +
        `(${Math.round(COPY_ROWS / (ms / 1000))} rows/s, ${(r.bytes / MB / (ms / 1000)).toFixed(1)} MB/s); ` +
        `start-replication + initial-copy ${Math.round(sinceReplicationMs)} ms; whole move ${Math.round(wholeMs)} ms; ` +
        `${m.copyEvents.count} initial-copy progress events over ${Math.round(m.copyEvents.last - m.copyEvents.first)} ms, ` +
        `most seen ${m.copyEvents.rows} rows / ${(m.copyEvents.bytes / MB).toFixed(1)} MB`,
    );
    log(`round ${round} move steps: ${stepBreakdown(m)}`);
    island = target;
  }

  const bytes = (raw[0] as CopyRun).bytes;
  const rawMs = raw.reduce((a, r) => a + r.ms, 0) / raw.length;
  const moveMs = moves.reduce((a, m) => a + m.ms, 0) / moves.length;
  const rawMbPerS = bytes / MB / (rawMs / 1000);
  const moveMbPerS = bytes / MB / (moveMs / 1000);
  log(
    `mean over ${COPY_ROUNDS} rounds: raw ${Math.round(rawMs)} ms, move initial-copy ${Math.round(moveMs)} ms ` +
      `(MB/s counted on the ${(bytes / MB).toFixed(1)} MB of COPY text both move)`,
  );
  figure("move_copy_rows_per_s", Math.round(COPY_ROWS / (moveMs / 1000)), "rows/s");
  figure("move_copy_mb_per_s", moveMbPerS.toFixed(1), "MB/s");
  figure("raw_copy_mb_per_s", rawMbPerS.toFixed(1), "MB/s");
  figure("move_copy_vs_raw_copy", (moveMbPerS / rawMbPerS).toFixed(2), "ratio");
}

/**
 * A move of an idle microshard on an otherwise idle source island, with the switch limits cut to
 * 2 × 1 s so that a switch that cannot complete fails fast. Logs what happened; rolls back if aborted.
 */
async function idleSwitchCheck(local: LocalCluster, masters: IslandMasters, microshard: number) {
  const source = await placementOf(masters, microshard);
  const target = other(source);
  const mover = new Mover({
    config: local.config,
    masters,
    options: { switchDeadlineMs: 1_000, switchAttempts: 2 },
  });
  const started = performance.now();
  try {
    const job = await mover.move(microshard, target);
    log(
      `idle switch check: the move of idle microshard ${microshard} ${source}→${target} completed ` +
        `in ${Math.round(performance.now() - started)} ms (write block ${job.writeBlockMs} ms)`,
    );
    await mover.cleanup(job.id);
    // Back home, so the write-load moves start where they would have.
    const back = await mover.move(microshard, source);
    await mover.cleanup(back.id);
  } catch (error) {
    if (!(error instanceof MoveAbortedError)) throw error;
    log(
      `idle switch check: the move of idle microshard ${microshard} ${source}→${target} ABORTED after ` +
        `${Math.round(performance.now() - started)} ms: ${error.message}`,
    );
    const cleaned = await mover.cleanup(error.jobId);
    if (!cleaned.dropped) throw new Error(`rollback left ${cleaned.pending.join("; ")}`);
  }
}

async function benchWriteBlock(local: LocalCluster, masters: IslandMasters, microshard: number) {
  const schema = microshardSchema(microshard);
  const home = await placementOf(masters, microshard);
  await onMaster(
    local,
    home,
    `INSERT INTO ${schema}.items (n, payload) SELECT g, ${PAYLOAD_SQL} FROM generate_series(1, $1) g`,
    [LOAD_SEED_ROWS],
  );
  await local.waitForReplication();
  const cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000 });
  const errors: unknown[] = [];
  const acknowledged: string[] = [];
  /** Each acknowledged write's latency as the app saw it, in ms. */
  const latencies: number[] = [];
  let longestWrite = { ms: 0, at: 0 };
  let stop = false;
  const writers: Promise<void>[] = [];
  try {
    await cluster.rediscover();
    for (let w = 0; w < WRITERS; w++) {
      writers.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const key = `w${w}-${i}`;
            const started = performance.now();
            try {
              await cluster
                .shard(microshard)
                .query(
                  `INSERT INTO ${schema}.writes (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`,
                  [key],
                  { write: true, idempotent: true },
                );
              acknowledged.push(key);
              const ms = performance.now() - started;
              latencies.push(ms);
              if (ms > longestWrite.ms) longestWrite = { ms, at: started };
            } catch (error) {
              errors.push(error);
            }
          }
        })(),
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    log(`${WRITERS} writers running: ${acknowledged.length} writes in the first 500 ms`);

    const writeBlocks: number[] = [];
    let switchRetries = 0;
    let longestAppWrite = 0;
    const failures: string[] = [];
    let island = home;
    const loopStarted = performance.now();
    for (let i = 1; i <= MOVES; i++) {
      const target = other(island);
      const before = acknowledged.length;
      const errorsBefore = errors.length;
      longestWrite = { ms: 0, at: 0 };
      try {
        const m = await timedMove(local, masters, microshard, target);
        const block = m.job.writeBlockMs;
        if (typeof block === "number") writeBlocks.push(block);
        switchRetries += m.switchRetries;
        if (longestWrite.ms > longestAppWrite) longestAppWrite = longestWrite.ms;
        log(
          `move ${String(i).padStart(2)}/${MOVES} ${island}→${target}: job ${m.job.id} write block ${block} ms, ` +
            `whole move ${Math.round(m.endedAt - m.startedAt)} ms, longest app write ${Math.round(longestWrite.ms)} ms, ` +
            `${acknowledged.length - before} writes, ${errors.length - errorsBefore} app errors, ` +
            `${m.switchRetries} switch retries; ` +
            `steps: ${stepBreakdown(m)}`,
        );
        island = target;
      } catch (error) {
        failures.push(`move ${i}: ${(error as Error).message}`);
        log(`move ${i}/${MOVES} ${island}→${target} FAILED: ${(error as Error).message}`);
        island = await placementOf(masters, microshard);
      }
    }
    const loopMs = performance.now() - loopStarted;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(writers);

    // Every acknowledged write is on the final copy (the primary key rules out doubles).
    const final = await placementOf(masters, microshard);
    const stored = new Set(
      (await onMaster<{ key: string }>(local, final, `SELECT key FROM ${schema}.writes`)).map(
        (r) => r.key,
      ),
    );
    const lost = acknowledged.filter((k) => !stored.has(k));
    const sortedLatencies = [...latencies].sort((a, b) => a - b);
    log(
      `${MOVES} moves in ${Math.round(loopMs / 1000)} s: ${writeBlocks.length} completed, ${failures.length} failed; ` +
        `${acknowledged.length} acknowledged writes (${Math.round(acknowledged.length / (loopMs / 1000))}/s), ` +
        `${lost.length} lost; app write latency p50 ${median(sortedLatencies).toFixed(1)} ms, ` +
        `p99 ${(sortedLatencies[Math.floor(sortedLatencies.length * 0.99)] ?? 0).toFixed(1)} ms, ` +
        `max ${(sortedLatencies.at(-1) ?? 0).toFixed(0)} ms`,
    );
    log(`write blocks (ms): ${writeBlocks.join(", ")}`);
    log(
      `switch retries over the ${MOVES} moves: ${switchRetries}; longest write the app saw during a move: ` +
        `${Math.round(longestAppWrite)} ms`,
    );
    for (const e of errors.slice(0, 5)) log(`app error: ${(e as Error).message}`);
    if (writeBlocks.length > 0) {
      figure("move_write_block_p50_ms", Math.round(median(writeBlocks)), "ms");
      figure("move_write_block_max_ms", Math.max(...writeBlocks), "ms");
    }
    figure("move_app_errors", errors.length, "count");
    // The jobs' writeBlockMs counts only the switch attempt that succeeded; what the app waited is this.
    figure("move_app_write_max_ms", Math.round(longestAppWrite), "ms");
    figure("move_switch_retries", switchRetries, "count");
    if (lost.length > 0) throw new Error(`${lost.length} acknowledged writes are missing`);
    if (failures.length > 0) throw new Error(`moves failed: ${failures.join("; ")}`);
  } finally {
    stop = true;
    await Promise.all(writers);
    await cluster.end();
  }
}

export async function benchMove(): Promise<void> {
  const started = performance.now();
  const local = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  const masters = new IslandMasters(local.config);
  try {
    await installCatalog(masters);
    await allocateMicroshards(masters, { numbers: [0], migrations: MIGRATIONS });
    await allocateMicroshards(masters, { count: 2, migrations: MIGRATIONS });
    const microshards = (await readCatalogs(masters))
      .filter((r) => r.microshard !== 0 && r.state === "active")
      .map((r) => r.microshard)
      .sort((a, b) => a - b);
    if (microshards.length !== 2) throw new Error("expected 2 microshards");
    log(`cluster up (2 islands × 1 replica) in ${Math.round(performance.now() - started)} ms`);
    await benchCopy(local, masters, microshards[0] as number);
    await idleSwitchCheck(local, masters, microshards[1] as number);
    await benchWriteBlock(local, masters, microshards[1] as number);
  } finally {
    await masters.end();
    await local.stop();
    log(`move bench took ${Math.round((performance.now() - started) / 1000)} s`);
  }
}
