/**
 * The executor: runs one unit of work (a statement, a batch, a transaction) on the right node, and
 * decides what to do when it fails. Every path through a query passes here.
 *
 * The loop, until success or the retry deadline:
 * 1. locate the microshards in the current map: `missing` → one rediscovery, then `MicroshardNotFound`
 *    (a bogus ID costs one round, never a retry storm); `in-motion` → back off, rediscover, again;
 *    a session that wrote a newer generation than the map knows → rediscover first (the map is stale,
 *    and the old island's frozen copy must not answer);
 * 2. choose the node: writes and `master` reads go to the master; `replica-ok` to any replica; `auto`
 *    to a replica that has replayed the session's position for these microshards, else the master;
 * 3. run, and on failure consult the error table (error-policy.ts) and act on its verdict in one
 *    exhaustive switch. A statement that may have been applied is retried only when idempotent.
 */
import type pg from "pg";
import {
  IslandUnavailableError,
  MicroshardConflictError,
  MicroshardInMotionError,
  MicroshardNotFoundError,
  OutcomeUnknownError,
  RetryDeadlineExceededError,
  WriteSentAsReadError,
} from "./client-errors.js";
import type { ClientEvents, RouteReason } from "./client-events.js";
import type { MapSource } from "./discovery.js";
import { classifyError, type QueryPhase } from "./error-policy.js";
import { query } from "./internal/query.js";
import type { IslandHandle } from "./island-handle.js";
import { parseLsn } from "./lsn.js";
import type { NodeHandle } from "./node-handle.js";
import { type RetryPolicy, retryDelayMs } from "./retry-policy.js";
import type { Session } from "./session.js";
import type { Placement } from "./shard-map.js";

/** How a read may be served. Writes always go to the master. */
export type ReadRole = "master" | "replica-ok" | "auto";

export interface Target {
  readonly island: number;
  readonly node: NodeHandle;
  /** The generation of each microshard of the work, from the map the attempt was routed by. */
  readonly generations: ReadonlyMap<number, number>;
}

export interface WorkSpec<T> {
  /** Every microshard the work touches; they must all live on one island. */
  readonly microshards: readonly number[];
  readonly write: boolean;
  /**
   * Safe to repeat even if a previous attempt may have been applied (reads always are). A function is
   * asked at the time of the failure (a transaction is safe to repeat until its COMMIT was sent).
   */
  readonly idempotent: boolean | (() => boolean);
  readonly role: ReadRole;
  readonly session: Session | undefined;
  readonly batchSize: number;
  /** Overrides the retry policy's deadline for this call. */
  readonly deadlineMs?: number;
  /** Pinned reason for events (transactions). */
  readonly reason?: RouteReason;
  readonly run: (client: pg.PoolClient, target: Target) => Promise<T>;
}

/** The work's microshards are no longer on one island; the caller (a batch) must regroup them. */
export class SplitAcrossIslandsSignal extends Error {
  constructor(readonly microshards: readonly number[]) {
    super("the microshards of this batch are now on different islands");
  }
}

/**
 * An error that is the caller's own (thrown by application code inside the work, not by the driver):
 * rethrown as it is, never classified, never retried.
 */
export class CallerError extends Error {
  constructor(readonly error: unknown) {
    super("caller error");
  }
}

/** Writes whose position could not be read after commit: force the master for their reads. */
const UNKNOWN_POSITION = (1n << 64n) - 1n;

export class Executor {
  constructor(
    private readonly discovery: MapSource,
    private readonly island: (island: number) => IslandHandle | undefined,
    private readonly policy: RetryPolicy,
    private readonly events: ClientEvents,
  ) {}

  async execute<T>(spec: WorkSpec<T>): Promise<T> {
    const started = Date.now();
    const deadlineMs = spec.deadlineMs ?? this.policy.deadlineMs;
    if (!Number.isFinite(deadlineMs) || deadlineMs < 0) {
      throw new RangeError(`deadlineMs must be a finite number ≥ 0, got ${deadlineMs}`);
    }
    const deadline = started + deadlineMs;
    let rediscoveredForMissing = false;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        if (Date.now() >= deadline) {
          throw new RetryDeadlineExceededError({
            deadlineMs: deadline - started,
            attempts: attempt - 1,
            lastError,
            microshards: [...spec.microshards],
          });
        }
        const delayMs = Math.min(
          retryDelayMs(this.policy, attempt - 1),
          Math.max(0, deadline - Date.now()),
        );
        this.events.count("retries");
        this.events.safeEmit("retry", {
          attempt,
          kind: errorKind(lastError),
          delayMs,
          microshards: spec.microshards,
        });
        await sleep(delayMs);
      }

      // 1. Locate.
      const lookedUpAt = performance.now();
      const map = this.discovery.map;
      const generations = new Map<number, number>();
      // The island of the first active microshard; `split` once another one is elsewhere.
      let islandNumber = -1;
      let split = false;
      let blocked: "missing" | "in-motion" | undefined;
      let missingMicroshard = -1;
      for (const microshard of spec.microshards) {
        const placement = map.locate(microshard);
        if (placement.kind === "missing") {
          blocked = "missing";
          missingMicroshard = microshard;
          break;
        }
        if (placement.kind === "in-motion") {
          blocked = "in-motion";
          continue;
        }
        generations.set(microshard, placement.generation);
        if (islandNumber === -1) islandNumber = placement.island;
        else if (placement.island !== islandNumber) split = true;
      }
      if (blocked === "missing") {
        if (this.discovery.conflicts.has(missingMicroshard)) {
          throw new MicroshardConflictError({ microshard: missingMicroshard, islands: [] });
        }
        // "Missing" is only proven when every island answered: an island that could not be asked
        // may hold it (a cold start while one island is down), so then it is retried like a blip.
        if (rediscoveredForMissing && this.discovery.unreachable.size === 0) {
          throw new MicroshardNotFoundError(missingMicroshard);
        }
        const first = !rediscoveredForMissing;
        rediscoveredForMissing = true;
        lastError = new MicroshardNotFoundError(missingMicroshard);
        await this.discovery.rediscover(lookedUpAt);
        if (first) attempt--; // the first lookup after a fresh map is not a retry
        continue;
      }
      if (blocked === "in-motion") {
        lastError = new MicroshardInMotionError(
          spec.microshards.find((m) => map.locate(m).kind === "in-motion") ?? -1,
        );
        await this.discovery.rediscover(lookedUpAt);
        continue;
      }
      if (split) throw new SplitAcrossIslandsSignal(spec.microshards);
      if (spec.session) {
        // The session wrote a newer generation than this map knows: the map is stale, and the island
        // it points at holds a frozen copy that must not answer. Wait for a map that caught up.
        const stale = spec.microshards.find(
          (m) => (spec.session?.newestGeneration(m) ?? 0) > (generations.get(m) ?? 0),
        );
        if (stale !== undefined) {
          lastError = new MicroshardInMotionError(stale);
          await this.discovery.rediscover(lookedUpAt);
          continue;
        }
      }
      const island = this.island(islandNumber);
      if (!island) {
        lastError = new IslandUnavailableError({
          island: islandNumber,
          reason: "not in the config",
        });
        await this.discovery.rediscover(lookedUpAt);
        continue;
      }

      // 2. Choose the node.
      const choice = chooseNode(island, spec, generations);
      if (!choice) {
        lastError = new IslandUnavailableError({
          island: islandNumber,
          reason: spec.write || spec.role === "master" ? "no master answers" : "no node answers",
        });
        await island.probeRoles();
        continue;
      }
      const { node, reason } = choice;
      const target: Target = { island: islandNumber, node, generations };

      // 3. Run.
      const attemptStarted = performance.now();
      let phase: QueryPhase = "connect";
      let client: pg.PoolClient | undefined;
      // A checkout that times out while every connection is busy means an overloaded pool, not a
      // dead node: it must not look like a failover.
      const saturated = node.isSaturated();
      let ok = false;
      let value: T | undefined;
      let error: unknown;
      try {
        client = await node.pool().connect();
        phase = "query";
        value = await spec.run(client, target);
        if (spec.write && spec.session) await this.#recordWrite(client, spec, target);
        ok = true;
      } catch (caught) {
        error = caught;
      }
      if (ok) {
        client?.release();
        node.markUp();
        this.#emitQuery(spec, target, reason, attempt, attemptStarted, undefined);
        return value as T;
      }
      if (error instanceof SplitAcrossIslandsSignal || error instanceof CallerError) {
        client?.release();
        throw error instanceof CallerError ? error.error : error;
      }
      const failedAt = performance.now();
      const classified = classifyError(error, phase);
      const verdict =
        phase === "connect" && saturated && classified.kind === "connection-setup-failed"
          ? { ...classified, kind: "pool-exhausted", action: "retry" as const, nodeDown: false }
          : classified;
      // A connection that failed mid-statement may be broken or still inside a transaction.
      client?.release(verdict.nodeDown || verdict.applied === "unknown" ? true : undefined);
      this.#emitQuery(spec, target, reason, attempt, attemptStarted, verdict.kind);
      lastError = error;
      if (verdict.nodeDown) node.markDown();
      const idempotent =
        typeof spec.idempotent === "function" ? spec.idempotent() : spec.idempotent;
      if (verdict.applied === "unknown" && spec.write && !idempotent) {
        throw new OutcomeUnknownError({
          island: islandNumber,
          node: node.name,
          microshards: [...spec.microshards],
          cause: error,
        });
      }
      // 25006 on a read: the statement changes data but was not marked as a write; retrying on
      // another replica would only fail again.
      if (verdict.kind === "read-only" && !spec.write)
        throw new WriteSentAsReadError(spec.microshards);
      switch (verdict.action) {
        case "fail":
          throw error;
        case "retry":
          break;
        case "rediscover-roles":
          node.forgetRole();
          await island.probeRoles();
          break;
        case "rediscover-map": {
          const before = spec.microshards.map((m) => map.locate(m));
          const after = await this.discovery.rediscover(failedAt);
          const unchanged = spec.microshards.every((m, i) =>
            samePlacement(before[i], after.locate(m)),
          );
          // The same placement after a fresh look: the table really does not exist; not a blip.
          if (unchanged) throw error;
          break;
        }
        default: {
          const exhaustive: never = verdict.action;
          throw new Error(`unhandled error action ${String(exhaustive)}`);
        }
      }
    }
  }

  async #recordWrite(
    client: pg.PoolClient,
    spec: WorkSpec<unknown>,
    target: Target,
  ): Promise<void> {
    let position = UNKNOWN_POSITION;
    try {
      const { rows } = await query<{ lsn: string }>(
        client,
        "SELECT pg_current_wal_insert_lsn()::text AS lsn",
      );
      if (rows[0]) {
        position = parseLsn(rows[0].lsn);
        target.node.recordPosition(position);
      }
    } catch {
      // The write succeeded but its position is unknown: reads of these microshards stay on the master.
    }
    for (const microshard of spec.microshards) {
      const generation = target.generations.get(microshard);
      if (generation !== undefined)
        spec.session?.recordWrite(target.island, microshard, generation, position);
    }
  }

  #emitQuery(
    spec: WorkSpec<unknown>,
    target: Target,
    reason: RouteReason,
    attempt: number,
    started: number,
    error: string | undefined,
  ): void {
    this.events.count("queries");
    if (error) this.events.count("query_errors");
    // The hot path: no event object is built when nobody listens.
    if (this.events.listenerCount("query") === 0) return;
    this.events.safeEmit("query", {
      island: target.island,
      node: target.node.name,
      role: target.node.role,
      reason: spec.reason ?? reason,
      microshards: spec.microshards,
      batchSize: spec.batchSize,
      attempt,
      durationMs: performance.now() - started,
      error,
    });
  }
}

/** Picks the node for the work; undefined when the island has none usable for it right now. */
export function chooseNode(
  island: IslandHandle,
  spec: Pick<WorkSpec<unknown>, "write" | "role" | "session" | "microshards">,
  generations: ReadonlyMap<number, number>,
): { node: NodeHandle; reason: RouteReason } | undefined {
  const master = island.master();
  if (spec.write) return master && { node: master, reason: "write" };
  if (spec.role === "master") return master && { node: master, reason: "master-mode" };
  if (spec.role === "replica-ok") {
    const replica = island.replica(undefined);
    if (replica) return { node: replica, reason: "replica-ok" };
    return master && { node: master, reason: "master-no-replica" };
  }
  let required: bigint | undefined;
  for (const microshard of spec.microshards) {
    const generation = generations.get(microshard);
    if (generation === undefined) continue;
    const position = spec.session?.requiredPosition(island.island, microshard, generation);
    if (position !== undefined && (required === undefined || position > required))
      required = position;
  }
  const replica = island.replica(required);
  if (replica) return { node: replica, reason: "replica-caught-up" };
  if (!master) return undefined;
  return {
    node: master,
    reason: island.replicaNodes.length > 0 ? "master-replica-lagging" : "master-no-replica",
  };
}

function samePlacement(a: Placement | undefined, b: Placement): boolean {
  if (!a || a.kind !== b.kind) return false;
  if (a.kind === "active" && b.kind === "active")
    return a.island === b.island && a.generation === b.generation;
  return a.kind === "missing";
}

function errorKind(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  return "unknown";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
