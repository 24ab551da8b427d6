/** Step `publish-map`: the new placement, published to every island. */
import { publishClusterMap } from "@archipelago/migrate";
import type { MoveContext } from "../move-context.js";

export async function publishMap(ctx: MoveContext): Promise<void> {
  try {
    await publishClusterMap(ctx.masters);
  } catch (error) {
    // The map is a convenience copy; the catalogs are the authority. Note it and carry on.
    await ctx.store.note(ctx.job.id, "map-not-published", (error as Error).message);
  }
}
