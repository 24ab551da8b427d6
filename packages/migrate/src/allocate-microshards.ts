/**
 * Allocates new microshards: chooses free numbers and islands, creates each microshard (schema, ID
 * generator, migrations table, catalog row) together with every migration in one transaction, then
 * publishes the cluster map.
 *
 * Two allocators at once: the cluster allocation lock (on the global island's master) serializes the
 * choice of numbers, and each reads every catalog after taking it, so neither can pick a number the
 * other created. Inside an island, `archipelago.allocate_microshard` takes a per-number lock and keeps a
 * primary key on the number, so even a caller that skips the cluster lock cannot create a microshard
 * twice on one island. No state is read-modified-written outside a row lock.
 */
import { advisoryLock, findIsland } from "@archipelago/topology";
import type { IslandMasters } from "./island-masters.js";
import { AllocationError } from "./migrate-errors.js";
import { migrateSchema } from "./migrate-schema.js";
import type { Migration } from "./migration-files.js";
import { acquireMigrationLock, releaseMigrationLock } from "./migration-lock.js";
import { type PlannedMicroshard, planAllocation } from "./plan-allocation.js";
import { type PublishResult, publishClusterMap } from "./publish-cluster-map.js";
import { readCatalogs } from "./read-catalogs.js";
import { acquireSessionLock, releaseSessionLock } from "./session-lock.js";
import { inTransaction } from "./transaction.js";

export interface AllocateOptions {
  /** How many new microshards (numbers chosen as the lowest free ones). */
  readonly count?: number;
  /** Or exactly these numbers (0 = shard 0, always on the global island). */
  readonly numbers?: readonly number[];
  /** Applied to every new microshard inside its creating transaction. */
  readonly migrations: readonly Migration[];
  /** How long to wait for the allocation and migrations locks. @default 30000 */
  readonly lockWaitMs?: number;
  readonly onAllocated?: (microshard: PlannedMicroshard) => void;
}

export interface AllocationResult {
  readonly allocated: readonly PlannedMicroshard[];
  readonly clusterMap: PublishResult;
}

export async function allocateMicroshards(
  masters: IslandMasters,
  options: AllocateOptions,
): Promise<AllocationResult> {
  const { config } = masters;
  const lock = advisoryLock("clusterAllocation");
  const timeoutMs = options.lockWaitMs ?? 30_000;
  const planned = await masters.withClient(config.globalIsland, async (control) => {
    await acquireSessionLock(control, lock, {
      shared: false,
      timeoutMs,
      busy: () =>
        new AllocationError(`another allocation held the cluster lock for ${timeoutMs} ms`),
    });
    try {
      const rows = await readCatalogs(masters);
      const plan = planAllocation({
        islands: config.islands.map((i) => ({
          island: i.island,
          weight: i.weight,
          draining: i.draining,
          microshards: rows.filter((r) => r.island === i.island).length,
        })),
        taken: new Set(rows.map((r) => r.microshard)),
        globalIsland: config.globalIsland,
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.numbers === undefined ? {} : { numbers: options.numbers }),
      });
      const byIsland = new Map<number, PlannedMicroshard[]>();
      for (const p of plan) byIsland.set(p.island, [...(byIsland.get(p.island) ?? []), p]);
      await Promise.all(
        [...byIsland].map(([island, microshards]) =>
          masters.withClient(island, async (client) => {
            if (!findIsland(config, island))
              throw new AllocationError(`island ${island} is not in the config`);
            await acquireMigrationLock(client, island, "shared", timeoutMs);
            try {
              for (const planned of microshards) {
                await inTransaction(client, async () => {
                  await client.query("SELECT archipelago.allocate_microshard($1)", [
                    planned.microshard,
                  ]);
                  const schema = `sh${String(planned.microshard).padStart(4, "0")}`;
                  await migrateSchema(
                    client,
                    { island, microshard: planned.microshard, schema },
                    options.migrations,
                    { transactions: "caller" },
                  );
                });
                options.onAllocated?.(planned);
              }
            } finally {
              await releaseMigrationLock(client, "shared").catch(() => {});
            }
          }),
        ),
      );
      return plan;
    } finally {
      await releaseSessionLock(control, lock, { shared: false }).catch(() => {});
    }
  });
  const clusterMap = await publishClusterMap(masters, { lockWaitMs: timeoutMs });
  return { allocated: planned, clusterMap };
}
