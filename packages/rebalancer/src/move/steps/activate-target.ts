/**
 * After the switch (roll forward only): stop replication, copy the sequences exactly from the retired
 * source, wait for the target's replicas, and activate the target at the new generation.
 */
import { type MoveContext, onMaster, withDedicated } from "../move-context.js";
import { MoveStateError } from "../move-errors.js";
import { dropPublication, dropSlot, dropSubscription } from "../replication-objects.js";
import { readSequences, writeSequences } from "../schema-facts.js";
import { catalogRow, sourceRetired } from "./catalog-row.js";
import { waitForTargetReplicas } from "./target-replicas.js";

export async function activateTarget(ctx: MoveContext): Promise<void> {
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
