/**
 * Creating and dropping a move's replication objects, each idempotent: "create" does nothing when the
 * object exists, "drop" does nothing when it is gone. Every create is preceded by a cleanup-log entry.
 */
import type { NodeConfig } from "@archipelago/topology";
import { type MoveContext, onMaster, sleep, withDedicated } from "./move-context.js";
import { MoveAbortedError } from "./move-errors.js";
import { quoteIdent as quoteIdentOf } from "./schema-facts.js";

export async function createPublication(ctx: MoveContext): Promise<void> {
  await ctx.store.recordObject(ctx.job.id, ctx.source, "publication", ctx.name);
  const exists = await onMaster(
    ctx,
    ctx.source,
    "SELECT 1 FROM pg_publication WHERE pubname = $1",
    [ctx.name],
  );
  if (exists.length === 0) {
    await onMaster(
      ctx,
      ctx.source,
      `CREATE PUBLICATION ${quoteIdentOf(ctx.name)} FOR TABLES IN SCHEMA ${quoteIdentOf(ctx.schema)}`,
    );
  }
}

/**
 * Creating a logical slot waits for every transaction that holds a transaction id on the source to
 * end; an idle-in-transaction session would hold it forever. The wait is bounded, and a timeout names
 * the sessions that held it.
 */
export async function createSlot(ctx: MoveContext): Promise<void> {
  await ctx.store.recordObject(ctx.job.id, ctx.source, "slot", ctx.name);
  await withDedicated(ctx, ctx.source, async (client) => {
    await client.query(`SET statement_timeout = '${ctx.options.slotCreationTimeoutMs}ms'`);
    try {
      await client.query(
        `SELECT pg_create_logical_replication_slot($1, 'pgoutput')
         WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)`,
        [ctx.name],
      );
    } catch (error) {
      if ((error as { code?: string }).code !== "57014") throw error;
      const blockers = await onMaster<{ pid: number; age: string; state: string }>(
        ctx,
        ctx.source,
        `SELECT pid, (now() - xact_start)::text AS age, state FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 5`,
      );
      throw new MoveAbortedError(
        ctx.job.id,
        "start-replication",
        `the replication slot could not be created within ${ctx.options.slotCreationTimeoutMs} ms: ` +
          `long transactions on island ${ctx.source} (${blockers.map((b) => `pid ${b.pid} ${b.state} for ${b.age}`).join(", ") || "none left"}) ` +
          "must end first",
      );
    }
  });
}

/** The subscription's oid (recorded in the job, to find its table-sync slots later), if it exists. */
async function subscriptionOid(ctx: MoveContext): Promise<string | undefined> {
  const rows = await onMaster<{ oid: string }>(
    ctx,
    ctx.target,
    "SELECT oid::text FROM pg_subscription WHERE subname = $1",
    [ctx.name],
  );
  if (rows[0]) ctx.state.subscriptionOid = rows[0].oid;
  return rows[0]?.oid;
}

// synchronous_commit = 'local': the target flushes what it applies at once, so the switch's final
// confirmation does not wait for the WAL writer (that wait was most of a ~0.5 s write block).
export async function createSubscription(ctx: MoveContext, sourceNode: NodeConfig): Promise<void> {
  await ctx.store.recordObject(ctx.job.id, ctx.target, "subscription", ctx.name);
  if ((await subscriptionOid(ctx)) !== undefined) return;
  // The password travels in the subscription's connection string (PostgreSQL needs it to connect) and
  // is dropped with the subscription; it never appears in a command line or a log line of ours.
  const conninfo = [
    ["host", sourceNode.host],
    ["port", String(sourceNode.port)],
    ["user", sourceNode.user],
    ["dbname", sourceNode.database],
    ...(sourceNode.password ? [["password", sourceNode.password.reveal()]] : []),
  ]
    .map(([k, v]) => `${k}='${(v as string).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`)
    .join(" ");
  await withDedicated(ctx, ctx.target, async (client) => {
    // The statement carries the password: keep it out of the target's log, whatever its settings.
    await client.query("SET log_statement = 'none'");
    await client.query("SET log_min_error_statement = 'panic'");
    await client.query(
      `CREATE SUBSCRIPTION ${quoteIdentOf(ctx.name)} CONNECTION ${literal(conninfo)}
     PUBLICATION ${quoteIdentOf(ctx.name)}
     WITH (create_slot = false, slot_name = ${literal(ctx.name)}, copy_data = true, enabled = true,
           synchronous_commit = 'local')`,
    );
  });
}

/**
 * Drops the subscription. Normally through the source (PostgreSQL then also drops the temporary slots
 * its table-sync workers made there); when the source does not answer, detached from its slots first,
 * so that the drop needs only the target, and `dropSlot` sweeps the source later.
 */
export async function dropSubscription(ctx: MoveContext): Promise<void> {
  if ((await subscriptionOid(ctx)) !== undefined) {
    const name = quoteIdentOf(ctx.name);
    await onMaster(ctx, ctx.target, `ALTER SUBSCRIPTION ${name} DISABLE`);
    try {
      await onMaster(ctx, ctx.target, `DROP SUBSCRIPTION ${name}`);
    } catch {
      await onMaster(ctx, ctx.target, `ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
      await onMaster(ctx, ctx.target, `DROP SUBSCRIPTION ${name}`);
    }
  }
  await ctx.store.markDropped(ctx.job.id, ctx.target, "subscription", ctx.name);
}

export async function dropSlot(ctx: MoveContext): Promise<void> {
  // The move's own slot, and the table-sync slots PostgreSQL made for its subscription
  // (pg_<subscription oid>_sync_<table oid>_<system id>) that a detached drop leaves behind. The
  // walsender of a just-stopped subscriber may hold a slot for a moment (active, or 55006 on drop):
  // wait for it rather than leave the slot behind.
  const oid = (ctx.state.subscriptionOid as string | undefined) ?? null;
  for (let attempt = 0; ; attempt++) {
    try {
      const slots = await onMaster<{ slot_name: string; active: boolean }>(
        ctx,
        ctx.source,
        `SELECT slot_name, active FROM pg_replication_slots
         WHERE slot_name = $1 OR ($2::text IS NOT NULL AND starts_with(slot_name, 'pg_' || $2 || '_sync_'))`,
        [ctx.name, oid],
      );
      if (slots.some((slot) => slot.active) && attempt < 100) {
        await sleep(100);
        continue;
      }
      for (const slot of slots) {
        // Guarded: PostgreSQL may have dropped a table-sync slot itself in the meantime.
        await onMaster(
          ctx,
          ctx.source,
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
          [slot.slot_name],
        );
      }
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "55006" || attempt > 100) throw error;
      await sleep(100);
    }
  }
  await ctx.store.markDropped(ctx.job.id, ctx.source, "slot", ctx.name);
}

export async function dropPublication(ctx: MoveContext): Promise<void> {
  await onMaster(ctx, ctx.source, `DROP PUBLICATION IF EXISTS ${quoteIdentOf(ctx.name)}`);
  await ctx.store.markDropped(ctx.job.id, ctx.source, "publication", ctx.name);
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
