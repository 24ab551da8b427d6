/**
 * Publishes the cluster map (every island's catalog rows, under a new epoch) to every island master.
 *
 * Publishers are serialized by an advisory lock on the global island's master, and each one reads the
 * catalogs after taking it: so a later epoch is always built from a later reading, and because islands
 * ignore a publish whose epoch is not newer than theirs, a slow publisher can never roll a map back.
 */
import { advisoryLock } from "@archipelago/topology";
import type { IslandMasters } from "./island-masters.js";
import { AllocationError } from "./migrate-errors.js";
import { readCatalogs } from "./read-catalogs.js";
import { withSessionLock } from "./session-lock.js";

export interface PublishResult {
  readonly epoch: number;
  readonly entries: number;
  /** Islands that took the new map (an island with a newer epoch already keeps its own). */
  readonly published: readonly number[];
}

export async function publishClusterMap(
  masters: IslandMasters,
  options: { lockWaitMs?: number } = {},
): Promise<PublishResult> {
  const lock = advisoryLock("clusterMapPublish");
  const timeoutMs = options.lockWaitMs ?? 30_000;
  const busy = () =>
    new AllocationError(`another cluster-map publisher held the lock for ${timeoutMs} ms`);
  return masters.withClient(masters.config.globalIsland, (control) =>
    withSessionLock(control, lock, { shared: false, timeoutMs, busy }, async () => {
      const rows = await readCatalogs(masters);
      const epochs = await Promise.all(
        masters.islandNumbers.map(async (island) => {
          const { rows: e } = await (await masters.pool(island)).query<{ epoch: string }>(
            "SELECT epoch FROM archipelago.cluster_map_epoch",
          );
          return Number(e[0]?.epoch ?? 0);
        }),
      );
      const epoch = Math.max(0, ...epochs) + 1;
      const entries = JSON.stringify(
        rows.map((r) => ({
          microshard: r.microshard,
          island: r.island,
          state: r.state,
          generation: r.generation,
        })),
      );
      const published = await Promise.all(
        masters.islandNumbers.map(async (island) => {
          const { rows: r } = await (await masters.pool(island)).query<{ applied: boolean }>(
            "SELECT archipelago.publish_cluster_map($1, $2::jsonb) AS applied",
            [epoch, entries],
          );
          return r[0]?.applied ? island : undefined;
        }),
      );
      return {
        epoch,
        entries: rows.length,
        published: published.filter((i): i is number => i !== undefined),
      };
    }),
  );
}
