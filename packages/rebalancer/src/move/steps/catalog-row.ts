import { type MoveContext, onMaster } from "../move-context.js";

export interface CatalogRow extends Record<string, unknown> {
  state: string;
  generation: number;
  schema_name: string;
}

export async function catalogRow(
  ctx: MoveContext,
  island: number,
): Promise<CatalogRow | undefined> {
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
