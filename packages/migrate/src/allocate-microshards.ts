/**
 * Allocates new microshards: chooses free numbers and islands, creates each microshard (schema, ID
 * generator, migrations table, catalog row) together with every migration in one transaction, then
 * publishes the cluster map.
 *
 * Two allocators at once: the cluster allocation lock (on the global island's master) serializes the
 * choice of numbers, and each reads every catalog after taking it, so neither can pick a number the
 * other created. Inside an island, `archipelago.allocate_microshard` takes a per-number lock and keeps a
 * primary key on the number, so even a caller that skips the cluster lock cannot create a microshard
 * twice on one island. No state is read-modified-written outside a row lock. Islands draining in the
 * config or marked draining in the control catalog get no new microshard.
 */
import { advisoryLock, microshardSchema } from "@archipelago/topology";
import type pg from "pg";
import { readDrainingIslands } from "./draining-marks.js";
import type { IslandMasters } from "./island-masters.js";
import { AllocationError, MigrationsFailedError } from "./migrate-errors.js";
import { migrateSchema } from "./migrate-schema.js";
import type { Migration } from "./migration-files.js";
import { withMigrationLock } from "./migration-lock.js";
import { type PlannedMicroshard, planAllocation } from "./plan-allocation.js";
import { type PublishResult, publishClusterMap } from "./publish-cluster-map.js";
import { readCatalogs } from "./read-catalogs.js";
import { withSessionLock } from "./session-lock.js";
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
  const busy = () =>
    new AllocationError(`another allocation held the cluster lock for ${timeoutMs} ms`);
  const planned = await masters.withClient(config.globalIsland, (control) =>
    withSessionLock(control, lock, { shared: false, timeoutMs, busy }, async () => {
      const rows = await readCatalogs(masters);
      const marked = await readDrainingIslands(control);
      const plan = planAllocation({
        islands: config.islands.map((i) => ({
          island: i.island,
          weight: i.weight,
          draining: i.draining || marked.has(i.island),
          microshards: rows.filter((r) => r.island === i.island).length,
        })),
        taken: new Set(rows.map((r) => r.microshard)),
        globalIsland: config.globalIsland,
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.numbers === undefined ? {} : { numbers: options.numbers }),
      });
      const byIsland = new Map<number, PlannedMicroshard[]>();
      for (const p of plan) byIsland.set(p.island, [...(byIsland.get(p.island) ?? []), p]);
      // Every island must be finished, failed or not, before the cluster lock is released: another
      // allocator reading a catalog while a creation is still running could pick the same number.
      const outcomes = await Promise.allSettled(
        [...byIsland].map(([island, microshards]) =>
          masters.withClient(island, (client) =>
            withMigrationLock(client, island, "shared", timeoutMs, async () => {
              for (const planned of microshards) {
                await inTransaction(client, () =>
                  createMicroshard(client, island, planned, options),
                );
                options.onAllocated?.(planned);
              }
            }),
          ),
        ),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed) throw failed.reason;
      return plan;
    }),
  );
  const clusterMap = await publishClusterMap(masters, { lockWaitMs: timeoutMs });
  return { allocated: planned, clusterMap };
}

async function createMicroshard(
  client: pg.ClientBase,
  island: number,
  planned: PlannedMicroshard,
  options: AllocateOptions,
): Promise<void> {
  await client.query("SELECT archipelago.allocate_microshard($1)", [planned.microshard]);
  const target = {
    island,
    microshard: planned.microshard,
    schema: microshardSchema(planned.microshard),
  };
  const result = await migrateSchema(client, target, options.migrations, {
    transactions: "caller",
  });
  // In the caller's transaction, a refused migration (edited or out of order) must abort the creation.
  if (result.failure) throw new MigrationsFailedError([result.failure]);
}
