/**
 * The switch, on the source: write locks, the target confirms the final position, then the source is
 * retired (catalog `sent`, generation + 1, schema renamed) in the same transaction, whose commit
 * releases the locks. Writers that waited on the locks then re-resolve the schema name, fail with
 * 42P01 and retry on the target through the client's blip handling; none writes into the old copy.
 */
import { type MoveContext, onMaster, withDedicated } from "../move-context.js";
import { MoveAbortedError } from "../move-errors.js";
import { listTables, quoteIdent, schemaFingerprint, tableChecksums } from "../schema-facts.js";
import { type CatalogRow, sourceRetired } from "./catalog-row.js";

export async function switchSource(ctx: MoveContext): Promise<void> {
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
