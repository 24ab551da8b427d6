/**
 * The planner's input read from the cluster: every island's active microshards with their sizes.
 * (A rebalance job carries the plan out: jobs/parent-jobs.ts, run by the manager.)
 */
import type { IslandMasters } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import { readClusterStatus } from "../status/cluster-status.js";
import { planRebalance, type RebalancePlan } from "./plan-rebalance.js";

export interface PlanOptions {
  /** Allowed relative deviation from each island's weighted target. @default 0.1 */
  readonly threshold?: number;
  readonly maxMoves?: number;
}

/** Reads every island's active microshards and sizes, and plans. Fails if an island cannot be read. */
export async function planFromCluster(
  config: ClusterConfig,
  masters: IslandMasters,
  options: PlanOptions = {},
): Promise<RebalancePlan> {
  const status = await readClusterStatus(config, masters);
  const unreadable = status.islands.filter((i) => i.error !== null);
  if (unreadable.length > 0) {
    throw new Error(
      `cannot plan: the catalog of island(s) ${unreadable.map((i) => i.island).join(", ")} could not be read`,
    );
  }
  return planRebalance({
    islands: status.islands.map((i) => ({
      island: i.island,
      weight: i.weight,
      draining: i.draining,
    })),
    microshards: status.islands.flatMap((i) =>
      i.microshards
        .filter((m) => m.state === "active")
        .map((m) => ({ microshard: m.microshard, island: i.island, bytes: m.bytes })),
    ),
    threshold: options.threshold ?? 0.1,
    ...(options.maxMoves === undefined ? {} : { maxMoves: options.maxMoves }),
  });
}
