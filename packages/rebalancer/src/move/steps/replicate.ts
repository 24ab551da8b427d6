import { type MoveContext, onMaster, waitUntil } from "../move-context.js";
import { MoveAbortedError } from "../move-errors.js";
import type { MoveStep } from "../move-steps.js";
import { createPublication, createSlot, createSubscription } from "../replication-objects.js";
import { waitForTargetReplicas } from "./target-replicas.js";

export async function startReplication(ctx: MoveContext): Promise<void> {
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

export async function initialCopy(ctx: MoveContext): Promise<void> {
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

export async function catchUp(ctx: MoveContext): Promise<void> {
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
