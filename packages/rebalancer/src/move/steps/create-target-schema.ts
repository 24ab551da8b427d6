/** Step `create-target-schema`: the source schema's DDL, replayed on the target. */
import { inTransaction } from "@archipelago/migrate";
import { type MoveContext, withDedicated } from "../move-context.js";
import { MoveRefusedError } from "../move-errors.js";
import { quoteIdent } from "../schema-facts.js";
import { dumpSchemaDdl } from "../source-ddl.js";

export async function createTargetSchema(ctx: MoveContext): Promise<void> {
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
