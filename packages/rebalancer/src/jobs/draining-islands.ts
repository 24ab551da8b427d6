/**
 * Islands marked draining by an operator (`archipelago drain`), kept in the control catalog.
 *
 * The config's own `draining` flag still counts; the mark adds to it so that an island can be drained
 * without editing and redeploying every process's config. A marked island receives no microshard
 * (neither from the planner nor from allocation, which reads the marks itself: migrate's
 * draining-marks.ts) until the mark is lifted.
 */
import { type IslandMasters, readDrainingIslands } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import type pg from "pg";

export async function markDraining(
  control: pg.Pool,
  island: number,
  reason: string,
): Promise<void> {
  await control.query(
    `INSERT INTO archipelago.draining_islands (island, reason) VALUES ($1, $2)
     ON CONFLICT (island) DO UPDATE SET reason = EXCLUDED.reason`,
    [island, reason],
  );
}

/** Lifts the mark; returns whether there was one. */
export async function unmarkDraining(control: pg.Pool, island: number): Promise<boolean> {
  const { rowCount } = await control.query(
    "DELETE FROM archipelago.draining_islands WHERE island = $1",
    [island],
  );
  return (rowCount ?? 0) > 0;
}

/** The config with the marked islands draining too. */
export function withDraining(config: ClusterConfig, marked: ReadonlySet<number>): ClusterConfig {
  if (marked.size === 0) return config;
  return {
    ...config,
    islands: config.islands.map((i) =>
      marked.has(i.island) && !i.draining ? { ...i, draining: true } : i,
    ),
  };
}

/** The config as the planner, allocation and status must see it: marked islands draining too. */
export async function effectiveConfig(
  config: ClusterConfig,
  masters: IslandMasters,
): Promise<ClusterConfig> {
  return withDraining(config, await readDrainingIslands(await masters.pool(config.globalIsland)));
}
