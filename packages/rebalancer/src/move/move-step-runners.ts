/**
 * What each step of a move does. Every runner is idempotent: run again after a crash at any point
 * inside it, it finishes the job instead of failing on what the first run already did. Runners read
 * the islands' catalogs to learn where the move really is; the checkpoint only says where to resume.
 */
import { inTransaction, publishClusterMap } from "@archipelago/migrate";
import pg from "pg";
import { type MoveContext, onMaster, waitUntil, withDedicated } from "./move-context.js";
import { MoveAbortedError, MoveRefusedError, MoveStateError } from "./move-errors.js";
import type { MoveStep } from "./move-steps.js";
import {
  createPublication,
  createSlot,
  createSubscription,
  dropPublication,
  dropSlot,
  dropSubscription,
} from "./replication-objects.js";
import {
  listTables,
  quoteIdent,
  readSequences,
  schemaFingerprint,
  tableChecksums,
  tablesWithoutIdentity,
  writeSequences,
} from "./schema-facts.js";
import { dumpSchemaDdl } from "./source-ddl.js";

interface CatalogRow extends Record<string, unknown> {
  state: string;
  generation: number;
  schema_name: string;
}

async function catalogRow(ctx: MoveContext, island: number): Promise<CatalogRow | undefined> {
  const rows = await onMaster<CatalogRow>(
    ctx,
    island,
    "SELECT state, generation, schema_name FROM archipelago.microshards WHERE microshard = $1",
    [ctx.microshard],
  );
  return rows[0];
}

/** The source has committed its retirement for this job: the move can only roll forward now. */
export async function sourceRetired(ctx: MoveContext): Promise<CatalogRow | undefined> {
  const row = await catalogRow(ctx, ctx.source);
  return row?.state === "sent" && row.schema_name === ctx.retired ? row : undefined;
}

async function precheck(ctx: MoveContext): Promise<void> {
  const refuse = (reason: string) => new MoveRefusedError(ctx.microshard, reason);
  if (ctx.microshard === 0) {
    throw refuse("shard 0 holds the global tables and the control catalog; it is not moved");
  }
  if (ctx.source === ctx.target) throw refuse(`it is already on island ${ctx.target}`);
  const targetIsland = ctx.config.islands.find((i) => i.island === ctx.target);
  if (!targetIsland) throw refuse(`island ${ctx.target} is not in the config`);
  if (targetIsland.draining) throw refuse(`island ${ctx.target} is draining`);
  const source = await catalogRow(ctx, ctx.source);
  if (source?.state !== "active") {
    throw refuse(`it is ${source ? source.state : "absent"} on island ${ctx.source}, not active`);
  }
  const target = await catalogRow(ctx, ctx.target);
  const ours = (await ctx.store.objects(ctx.job.id)).some(
    (o) => o.kind === "schema" && o.island === ctx.target,
  );
  if (target && !(target.state === "receiving" && ours)) {
    throw refuse(`island ${ctx.target} already holds a ${target.state} copy; clean it up first`);
  }
  const schemaOnTarget = await onMaster(
    ctx,
    ctx.target,
    "SELECT 1 FROM pg_namespace WHERE nspname = $1",
    [ctx.schema],
  );
  if (schemaOnTarget.length > 0 && !ours) {
    throw refuse(`island ${ctx.target} has a schema ${ctx.schema} that its catalog does not list`);
  }
  const sourcePool = await ctx.masters.pool(ctx.source);
  const client = await sourcePool.connect();
  try {
    const missing = await tablesWithoutIdentity(client, ctx.schema);
    if (missing.length > 0) {
      throw refuse(
        `table(s) ${missing.join(", ")} have no primary key or replica identity, so logical replication ` +
          "cannot carry their updates and deletes; add a primary key",
      );
    }
  } finally {
    client.release();
  }
  const [walLevel] = await onMaster<{ wal_level: string }>(
    ctx,
    ctx.source,
    "SELECT current_setting('wal_level') AS wal_level",
  );
  if (walLevel?.wal_level !== "logical") {
    throw refuse(
      `island ${ctx.source} has wal_level=${walLevel?.wal_level}; logical replication needs wal_level=logical`,
    );
  }
  const version = async (island: number) =>
    Math.floor(
      Number(
        (
          await onMaster<{ v: string }>(
            ctx,
            island,
            "SELECT current_setting('server_version_num') AS v",
          )
        )[0]?.v,
      ) / 10_000,
    );
  const [sv, tv] = await Promise.all([version(ctx.source), version(ctx.target)]);
  if (sv < 15 || tv < 15)
    throw refuse(`PostgreSQL ≥ 15 is needed on both islands (source ${sv}, target ${tv})`);
  ctx.state.generation = source.generation;
}

async function createTargetSchema(ctx: MoveContext): Promise<void> {
  const sourceNode = await ctx.masters.masterNode(ctx.source);
  const ddl = await dumpSchemaDdl(sourceNode, ctx.schema);
  await ctx.store.recordObject(ctx.job.id, ctx.target, "schema", ctx.schema);
  await withDedicated(ctx, ctx.target, (client) =>
    inTransaction(client, async () => {
      const { rows } = await client.query<{ state: string }>(
        "SELECT state FROM archipelago.microshards WHERE microshard = $1 FOR UPDATE",
        [ctx.microshard],
      );
      if (rows.length === 0) {
        await client.query(
          "INSERT INTO archipelago.microshards (microshard, state, generation, schema_name) VALUES ($1, 'receiving', $2, $3)",
          [ctx.microshard, ctx.state.generation, ctx.schema],
        );
      } else if (rows[0]?.state !== "receiving") {
        throw new MoveRefusedError(
          ctx.microshard,
          `island ${ctx.target} holds it as ${rows[0]?.state}`,
        );
      }
      // A re-run after a crash finds its own half-made copy (the row is `receiving` and ours): redo it.
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(ctx.schema)} CASCADE`);
      await client.query(ddl);
    }),
  );
  ctx.progress({
    step: "create-target-schema",
    detail: `created ${ctx.schema} on island ${ctx.target}`,
  });
}

async function startReplication(ctx: MoveContext): Promise<void> {
  await createPublication(ctx);
  await createSlot(ctx);
  await createSubscription(ctx, await ctx.masters.masterNode(ctx.source));
}

async function subscriptionErrors(ctx: MoveContext): Promise<number> {
  const rows = await onMaster<{ errors: string }>(
    ctx,
    ctx.target,
    "SELECT (apply_error_count + sync_error_count)::text AS errors FROM pg_stat_subscription_stats WHERE subname = $1",
    [ctx.name],
  );
  return Number(rows[0]?.errors ?? 0);
}

/**
 * The subscription's error counters also count a lost connection to the source, and never go down. So
 * a move aborts only when errors keep coming for longer than the step retry deadline (DDL that broke
 * the apply, a dropped table); a source restart adds a few and then replication goes on.
 */
function failOnReplicationErrors(ctx: MoveContext, errors: number, step: MoveStep): void {
  const seen = ctx.state.replicationErrors as
    | { count: number; since: number | null; last: number }
    | undefined;
  const now = Date.now();
  if (!seen || errors < seen.count) {
    ctx.state.replicationErrors = { count: errors, since: null, last: now };
    return;
  }
  if (errors === seen.count) {
    // Quiet for a while: whatever went wrong has passed.
    if (seen.since !== null && now - seen.last > 10_000)
      ctx.state.replicationErrors = { ...seen, since: null };
    return;
  }
  const since = seen.since ?? now;
  ctx.state.replicationErrors = { count: errors, since, last: now };
  if (now - since > ctx.options.stepRetryDeadlineMs) {
    throw new MoveAbortedError(
      ctx.job.id,
      step,
      `the subscription on island ${ctx.target} kept reporting errors for ${Math.round((now - since) / 1000)} s ` +
        "(DDL or a dropped table during the move?); see that server's log",
    );
  }
}

async function initialCopy(ctx: MoveContext): Promise<void> {
  const tables = await onMaster<{ relname: string }>(
    ctx,
    ctx.source,
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [ctx.schema],
  );
  await waitUntil(
    ctx,
    async () => {
      failOnReplicationErrors(ctx, await subscriptionErrors(ctx), "initial-copy");
      // The copy streams from the source: a source that stopped answering must fail the wait (and be
      // retried), not leave it spinning on a target that simply stopped making progress.
      await onMaster(ctx, ctx.source, "SELECT 1");
      const [state] = await onMaster<{
        ready: string;
        total: string;
        rows: string | null;
        bytes: string | null;
      }>(
        ctx,
        ctx.target,
        `WITH rel AS (
           SELECT sr.srrelid, sr.srsubstate FROM pg_subscription_rel sr
           JOIN pg_subscription s ON s.oid = sr.srsubid WHERE s.subname = $1)
         SELECT (SELECT count(*) FILTER (WHERE srsubstate IN ('r', 's')) FROM rel)::text AS ready,
                (SELECT count(*) FROM rel)::text AS total,
                (SELECT sum(tuples_processed) FROM pg_stat_progress_copy
                  WHERE relid IN (SELECT srrelid FROM rel))::text AS rows,
                (SELECT sum(bytes_processed) FROM pg_stat_progress_copy
                  WHERE relid IN (SELECT srrelid FROM rel))::text AS bytes`,
        [ctx.name],
      );
      const ready = Number(state?.ready ?? 0);
      const total = Number(state?.total ?? 0);
      if (total === 0) {
        const subscription = await onMaster(
          ctx,
          ctx.target,
          "SELECT 1 FROM pg_subscription WHERE subname = $1",
          [ctx.name],
        );
        if (subscription.length === 0) {
          throw new MoveAbortedError(
            ctx.job.id,
            "initial-copy",
            `subscription ${ctx.name} is missing on island ${ctx.target}`,
          );
        }
      }
      ctx.progress({
        step: "initial-copy",
        detail: `${ready}/${tables.length} tables copied`,
        tablesReady: ready,
        tablesTotal: tables.length,
        copiedRows: Number(state?.rows ?? 0),
        copiedBytes: Number(state?.bytes ?? 0),
      });
      return total >= tables.length && ready === total ? true : undefined;
    },
    Number.POSITIVE_INFINITY,
    () => new Error("unreachable"),
  );
}

async function catchUp(ctx: MoveContext): Promise<void> {
  await waitUntil(
    ctx,
    async () => {
      failOnReplicationErrors(ctx, await subscriptionErrors(ctx), "catch-up");
      const [slot] = await onMaster<{ lag: string | null }>(
        ctx,
        ctx.source,
        "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1",
        [ctx.name],
      );
      if (!slot)
        throw new MoveAbortedError(
          ctx.job.id,
          "catch-up",
          `replication slot ${ctx.name} disappeared`,
        );
      const lag = Number(slot.lag ?? Number.POSITIVE_INFINITY);
      ctx.progress({ step: "catch-up", detail: `lag ${lag} bytes`, lagBytes: lag });
      return lag <= ctx.options.catchUpMaxLagBytes ? true : undefined;
    },
    Number.POSITIVE_INFINITY,
    () => new Error("unreachable"),
  );
  // The target's replicas replay the copy now, while the source still takes writes; the wait after
  // the switch (inside the blip) then only covers the last few changes.
  await waitForTargetReplicas(ctx);
}

/**
 * The switch, on the source: write locks, the target confirms the final position, then the source is
 * retired (catalog `sent`, generation + 1, schema renamed) in the same transaction, whose commit
 * releases the locks. Writers that waited on the locks then re-resolve the schema name, fail with
 * 42P01 and retry on the target through the client's blip handling; none writes into the old copy.
 */
async function switchSource(ctx: MoveContext): Promise<void> {
  if (await sourceRetired(ctx)) return; // committed before a crash: nothing to redo
  const targetFingerprint = await withDedicated(ctx, ctx.target, (c) =>
    schemaFingerprint(c, ctx.schema),
  );
  const targetTables = await withDedicated(ctx, ctx.target, (c) => listTables(c, ctx.schema));
  for (let attempt = 1; ; attempt++) {
    // Writers queue behind the lock from the moment it is requested, so the write block is counted
    // from there, summed over attempts that gave up.
    const lockRequestedAt = Date.now();
    const outcome = await withDedicated(ctx, ctx.source, async (client) => {
      await client.query("BEGIN");
      try {
        await client.query(`SET LOCAL lock_timeout = '${ctx.options.lockTimeoutMs}ms'`);
        // If the mover dies or is cut off while holding the write locks, the server ends the
        // transaction itself instead of waiting for TCP keepalive to notice.
        await client.query(
          `SET LOCAL idle_in_transaction_session_timeout = '${ctx.options.switchDeadlineMs + 5_000}ms'`,
        );
        const tables = await listTables(client, ctx.schema);
        // No row lock here: anything this transaction writes before the target confirms would sit
        // unflushed in the WAL and hold the confirmation back. The UPDATE below re-checks the state.
        const [row] = (
          await client.query<CatalogRow>(
            "SELECT state, generation, schema_name FROM archipelago.microshards WHERE microshard = $1",
            [ctx.microshard],
          )
        ).rows;
        if (row?.state !== "active" || tables.length === 0) {
          throw new MoveAbortedError(
            ctx.job.id,
            "switch",
            `microshard ${ctx.microshard} was dropped or retired during the move`,
          );
        }
        try {
          await client.query(
            `LOCK TABLE ${tables.map((t) => `${quoteIdent(ctx.schema)}.${quoteIdent(t)}`).join(", ")} IN EXCLUSIVE MODE`,
          );
        } catch (error) {
          if ((error as { code?: string }).code === "55P03") return "lock-timeout" as const;
          throw error;
        }
        const lockedAt = Date.now();
        if (
          tables.join(",") !== targetTables.join(",") ||
          (await schemaFingerprint(client, ctx.schema)) !== targetFingerprint
        ) {
          throw new MoveAbortedError(
            ctx.job.id,
            "switch",
            "the microshard's tables changed (DDL) during the move",
          );
        }
        // The final position: a transactional marker committed (and so flushed) after the locks were
        // granted. Every write to the locked tables committed before it; once the target confirms it,
        // the target has them all. Committing it also flushes the WAL, so the walsender reaches it at once.
        const [{ lsn } = { lsn: "" }] = await onMaster<{ lsn: string }>(
          ctx,
          ctx.source,
          "SELECT pg_logical_emit_message(true, 'archipelago', $1)::text AS lsn",
          [`switch ${ctx.name}`],
        );
        const caughtUp = await waitForConfirmedFlush(
          ctx,
          lsn,
          lockedAt + ctx.options.switchDeadlineMs,
        );
        if (!caughtUp) return "deadline" as const;
        if (ctx.options.verify) {
          const here = await tableChecksums(client, ctx.schema, tables);
          const there = await withDedicated(ctx, ctx.target, (c) =>
            tableChecksums(c, ctx.schema, tables),
          );
          const differing = here.filter((h, i) => JSON.stringify(h) !== JSON.stringify(there[i]));
          if (differing.length > 0) {
            throw new MoveAbortedError(
              ctx.job.id,
              "switch",
              `verification failed: ${differing.map((d) => d.table).join(", ")} differ between source and target`,
            );
          }
        }
        await ctx.store.recordObject(ctx.job.id, ctx.source, "schema", ctx.retired);
        const { rows: retired } = await client.query<{ generation: number }>(
          `UPDATE archipelago.microshards SET state = 'sent', generation = generation + 1, schema_name = $2
           WHERE microshard = $1 AND state = 'active' RETURNING generation`,
          [ctx.microshard, ctx.retired],
        );
        if (retired.length !== 1) {
          throw new MoveAbortedError(
            ctx.job.id,
            "switch",
            `microshard ${ctx.microshard} stopped being active during the switch`,
          );
        }
        await client.query(
          `ALTER SCHEMA ${quoteIdent(ctx.schema)} RENAME TO ${quoteIdent(ctx.retired)}`,
        );
        await client.query("COMMIT");
        ctx.state.lockedAt = lockRequestedAt;
        ctx.state.newGeneration = retired[0]?.generation;
        return "switched" as const;
      } finally {
        await client.query("ROLLBACK").catch(() => {});
      }
    });
    if (outcome === "switched") return;
    ctx.state.blockedBeforeMs =
      Number(ctx.state.blockedBeforeMs ?? 0) + (Date.now() - lockRequestedAt);
    await ctx.store.note(
      ctx.job.id,
      "switch-retry",
      outcome === "lock-timeout"
        ? `attempt ${attempt}: write locks not granted within ${ctx.options.lockTimeoutMs} ms (long transactions?)`
        : `attempt ${attempt}: the target did not confirm within ${ctx.options.switchDeadlineMs} ms; locks released`,
    );
    if (attempt >= ctx.options.switchAttempts) {
      throw new MoveAbortedError(
        ctx.job.id,
        "switch",
        `no switch after ${attempt} attempts (last: ${outcome})`,
      );
    }
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

async function waitForConfirmedFlush(
  ctx: MoveContext,
  lsn: string,
  deadline: number,
): Promise<boolean> {
  for (;;) {
    const [slot] = await onMaster<{ done: boolean }>(
      ctx,
      ctx.source,
      "SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1",
      [ctx.name, lsn],
    );
    if (slot?.done) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * After the switch (roll forward only): stop replication, copy the sequences exactly from the retired
 * source, wait for the target's replicas, and activate the target at the new generation.
 */
async function activateTarget(ctx: MoveContext): Promise<void> {
  const retired = await sourceRetired(ctx);
  const target = await catalogRow(ctx, ctx.target);
  if (!retired) {
    throw new MoveStateError(
      ctx.job.id,
      `the source of microshard ${ctx.microshard} is not retired by this job; refusing to activate`,
    );
  }
  if (target?.state === "active" && target.generation === retired.generation) return;
  await dropSubscription(ctx);
  await dropSlot(ctx);
  await dropPublication(ctx);
  // The retired schema has no callers (its name changed in the switch), so its sequences are final.
  const sequences = await withDedicated(ctx, ctx.source, (c) => readSequences(c, ctx.retired));
  await withDedicated(ctx, ctx.target, (c) => writeSequences(c, ctx.schema, sequences));
  await waitForTargetReplicas(ctx);
  const updated = await onMaster(
    ctx,
    ctx.target,
    `UPDATE archipelago.microshards SET state = 'active', generation = $2
     WHERE microshard = $1 AND state = 'receiving' RETURNING 1`,
    [ctx.microshard, retired.generation],
  );
  if (updated.length === 0)
    throw new MoveStateError(ctx.job.id, `island ${ctx.target} has no receiving copy to activate`);
  const lockedAt = Number(ctx.state.lockedAt ?? Number.NaN);
  if (Number.isFinite(lockedAt)) {
    ctx.state.writeBlockMs = Number(ctx.state.blockedBeforeMs ?? 0) + (Date.now() - lockedAt);
  }
}

async function waitForTargetReplicas(ctx: MoveContext): Promise<void> {
  const [position] = await onMaster<{ lsn: string }>(
    ctx,
    ctx.target,
    "SELECT pg_current_wal_insert_lsn()::text AS lsn",
  );
  const island = ctx.config.islands.find((i) => i.island === ctx.target);
  const master = await ctx.masters.masterNode(ctx.target);
  for (const node of island?.nodes ?? []) {
    if (node.host === master.host && node.port === master.port) continue;
    const client = new pg.Client({
      host: node.host,
      port: node.port,
      user: node.user,
      database: node.database,
      ...(node.password ? { password: node.password.reveal() } : {}),
      connectionTimeoutMillis: 2_000,
      // A replica that goes silent must not hang the activation, and one that drops the connection
      // must not crash the process (an unhandled client error would).
      query_timeout: 5_000,
      keepAlive: true,
    });
    client.on("error", () => {});
    try {
      await client.connect();
    } catch {
      continue; // a replica that is down serves nobody; it replays on its own when it returns
    }
    try {
      await waitUntil(
        ctx,
        async () => {
          const { rows } = await client.query<{ done: boolean }>(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS done",
            [position?.lsn],
          );
          return rows[0]?.done ? true : undefined;
        },
        ctx.options.replicaReplayDeadlineMs,
        () =>
          new MoveStateError(
            ctx.job.id,
            `replica ${node.name} of island ${ctx.target} did not replay the copy within ${ctx.options.replicaReplayDeadlineMs} ms`,
          ),
      );
    } finally {
      await client.end().catch(() => {});
    }
  }
}

async function publishMap(ctx: MoveContext): Promise<void> {
  try {
    await publishClusterMap(ctx.masters);
  } catch (error) {
    // The map is a convenience copy; the catalogs are the authority. Note it and carry on.
    await ctx.store.note(ctx.job.id, "map-not-published", (error as Error).message);
  }
}

export const STEP_RUNNERS: Record<MoveStep, (ctx: MoveContext) => Promise<void>> = {
  precheck,
  "create-target-schema": createTargetSchema,
  "start-replication": startReplication,
  "initial-copy": initialCopy,
  "catch-up": catchUp,
  switch: switchSource,
  "activate-target": activateTarget,
  "publish-map": publishMap,
  completed: async () => {},
};
