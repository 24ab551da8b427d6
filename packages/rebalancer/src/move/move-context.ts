/**
 * Everything one move run needs: its job, its islands' masters, the names of its objects, its options,
 * and small helpers for waiting and for telling a transient failure (an island briefly unreachable)
 * from a permanent one.
 */
import type { IslandMasters } from "@archipelago/migrate";
import { type ClusterConfig, microshardSchema } from "@archipelago/topology";
import type pg from "pg";
import type { JobRecord, JobStore } from "../jobs/job-store.js";
import { MoveStoppedError } from "./move-errors.js";
import type { MoveOptions } from "./move-options.js";
import { type MoveStep, moveObjectName, retiredSchemaName } from "./move-steps.js";

export interface MoveProgress {
  readonly jobId: number;
  readonly step: MoveStep;
  readonly detail: string;
  readonly tablesReady?: number;
  readonly tablesTotal?: number;
  readonly copiedRows?: number;
  readonly copiedBytes?: number;
  readonly lagBytes?: number;
}

export interface MoveContext {
  readonly job: JobRecord;
  readonly microshard: number;
  readonly schema: string;
  readonly retired: string;
  readonly source: number;
  readonly target: number;
  /** Publication, slot and subscription share this name. */
  readonly name: string;
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly store: JobStore;
  readonly options: MoveOptions;
  readonly progress: (event: Omit<MoveProgress, "jobId">) => void;
  /** Values carried between steps (and across restarts, through the job's checkpoint). */
  readonly state: Record<string, unknown>;
  /** Stops long waits when aborted, but only while `armed` (before the switch). */
  readonly stop: StopGate;
}

/** A stop request reaches a move only before its switch; after it, the move always rolls forward. */
export interface StopGate {
  readonly signal: AbortSignal | undefined;
  armed: boolean;
  /** The step the move is at (for the error). */
  step: MoveStep;
}

export function moveContext(
  job: JobRecord,
  deps: Pick<MoveContext, "config" | "masters" | "store" | "options"> & {
    onProgress?: (event: MoveProgress) => void;
    signal?: AbortSignal;
  },
): MoveContext {
  const microshard = job.microshard as number;
  const schema = microshardSchema(microshard);
  return {
    job,
    microshard,
    schema,
    retired: retiredSchemaName(schema, job.id),
    source: job.sourceIsland as number,
    target: job.targetIsland as number,
    name: moveObjectName(job.id),
    config: deps.config,
    masters: deps.masters,
    store: deps.store,
    options: deps.options,
    progress: (event) => deps.onProgress?.({ jobId: job.id, ...event }),
    state: { ...job.checkpoint },
    stop: { signal: deps.signal, armed: false, step: "precheck" },
  };
}

/** A query on the island's master (through its pool). */
export async function onMaster<Row extends Record<string, unknown>>(
  ctx: MoveContext,
  island: number,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const pool = await ctx.masters.pool(island);
  return (await pool.query<Row>(sql, params as unknown[])).rows;
}

/** A dedicated connection to the island's master, destroyed afterwards (no session state survives). */
export async function withDedicated<T>(
  ctx: MoveContext,
  island: number,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await (await ctx.masters.pool(island)).connect();
  try {
    return await work(client);
  } finally {
    client.release(true);
  }
}

const TRANSIENT_SQLSTATES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "53300",
]);
const TRANSIENT_SYSTEM = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "NO_MASTER",
]);

/** An island could not be reached or its session died: worth retrying after a pause. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SYSTEM.has(code);
  // node-postgres reports a dropped connection as a plain Error without a code.
  return error instanceof Error && error.constructor === Error;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value, or throws `onTimeout()` after `timeoutMs`. */
export async function waitUntil<T>(
  ctx: MoveContext,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfStopped(ctx);
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw onTimeout();
    await sleep(ctx.options.pollMs);
  }
}

/** Throws MoveStoppedError when the move was asked to stop and is still before its switch. */
export function throwIfStopped(ctx: MoveContext): void {
  const { signal, armed, step } = ctx.stop;
  if (armed && signal?.aborted) {
    throw new MoveStoppedError(ctx.job.id, step, String(signal.reason ?? "stop requested"));
  }
}
