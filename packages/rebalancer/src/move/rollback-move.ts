/**
 * Rolls a move back (only before its switch): drops, in reverse order of creation, every object the
 * cleanup log lists and that still exists. The target's copy is dropped only while its catalog row is
 * this move's `receiving` row (or absent), so an active copy can never be dropped by mistake. Objects
 * on an island that cannot be reached stay in the log, undropped, for `cleanup` to finish later.
 */
import { inTransaction } from "@archipelago/migrate";
import type pg from "pg";
import { type MoveContext, withDedicated } from "./move-context.js";
import { dropPublication, dropSlot, dropSubscription } from "./replication-objects.js";
import { quoteIdent } from "./schema-facts.js";

export interface RollbackResult {
  /** Objects that could not be dropped now (their island did not answer). */
  readonly pending: readonly string[];
}

export async function rollbackMove(ctx: MoveContext): Promise<RollbackResult> {
  const objects = (await ctx.store.objects(ctx.job.id))
    .filter((o) => o.droppedAt === null)
    .reverse();
  const pending: string[] = [];
  for (const object of objects) {
    try {
      if (object.kind === "subscription") await dropSubscription(ctx);
      else if (object.kind === "slot") await dropSlot(ctx);
      else if (object.kind === "publication") await dropPublication(ctx);
      else if (object.kind === "schema" && object.island === ctx.target) await dropTargetCopy(ctx);
      else if (
        object.kind === "schema" &&
        object.island === ctx.source &&
        object.name === ctx.retired
      ) {
        // Recorded just before a switch that did not commit: the rename never happened.
        const exists = await withDedicated(ctx, ctx.source, (c) =>
          c.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [ctx.retired]),
        );
        if (exists.rowCount === 0)
          await ctx.store.markDropped(ctx.job.id, ctx.source, "schema", ctx.retired);
        else pending.push(`schema ${object.name} on island ${object.island} (left in place)`);
      } else
        pending.push(`${object.kind} ${object.name} on island ${object.island} (left in place)`);
    } catch (error) {
      pending.push(
        `${object.kind} ${object.name} on island ${object.island}: ${(error as Error).message}`,
      );
    }
  }
  return { pending };
}

async function dropTargetCopy(ctx: MoveContext): Promise<void> {
  await withDedicated(ctx, ctx.target, (client) =>
    inTransaction(client, async () => {
      const state = (await lockCatalogRow(client, ctx.microshard))?.state;
      if (state !== undefined && state !== "receiving" && state !== "garbage") {
        throw new Error(
          `island ${ctx.target} holds microshard ${ctx.microshard} as ${state}; not dropping it`,
        );
      }
      await dropCopy(client, ctx.microshard, ctx.schema, state);
    }),
  );
  await ctx.store.markDropped(ctx.job.id, ctx.target, "schema", ctx.schema);
}

/**
 * Drops the retired source copy of a completed move (the `cleanup` after the delay): its catalog row
 * goes `sent → garbage → absent` around the DROP, in one transaction.
 */
export async function dropRetiredSource(ctx: MoveContext): Promise<boolean> {
  const dropped = await withDedicated(ctx, ctx.source, (client) =>
    inTransaction(client, async () => {
      const row = await lockCatalogRow(client, ctx.microshard);
      if (!row || row.schema_name !== ctx.retired) return false;
      await dropCopy(client, ctx.microshard, ctx.retired, row.state);
      return true;
    }),
  );
  await ctx.store.markDropped(ctx.job.id, ctx.source, "schema", ctx.retired);
  return dropped;
}

async function lockCatalogRow(
  client: pg.ClientBase,
  microshard: number,
): Promise<{ state: string; schema_name: string } | undefined> {
  const { rows } = await client.query<{ state: string; schema_name: string }>(
    "SELECT state, schema_name FROM archipelago.microshards WHERE microshard = $1 FOR UPDATE",
    [microshard],
  );
  return rows[0];
}

/**
 * Drops a copy's schema and takes its catalog row (if any) out through the state machine:
 * `receiving`/`sent` → `garbage` → absent. Runs in the caller's transaction.
 */
async function dropCopy(
  client: pg.ClientBase,
  microshard: number,
  schema: string,
  state: string | undefined,
): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  if (state === undefined) return;
  if (state !== "garbage") {
    await client.query(
      "UPDATE archipelago.microshards SET state = 'garbage' WHERE microshard = $1",
      [microshard],
    );
  }
  await client.query("DELETE FROM archipelago.microshards WHERE microshard = $1", [microshard]);
}
