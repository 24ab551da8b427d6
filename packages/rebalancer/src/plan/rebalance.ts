/**
 * A rebalance: measure the cluster, plan (pure), then carry the plan out move by move with the mover.
 *
 * Moves run one at a time here, each cleaned up (retired source dropped) before the next, so a
 * rebalance never holds more than one extra copy of data. A move that is refused or aborted is
 * reported and skipped; a move that stalls past its switch stops the rebalance (that microshard is
 * unavailable until it is resumed, which matters more than the rest of the plan).
 */
import type { IslandMasters } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import type { JobRecord } from "../jobs/job-store.js";
import { MoveStalledError } from "../move/move-errors.js";
import type { Mover } from "../move/mover.js";
import { readClusterStatus } from "../status/cluster-status.js";
import { type PlannedMove, planRebalance, type RebalancePlan } from "./plan-rebalance.js";

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

export interface RebalanceOutcome {
  readonly completed: readonly JobRecord[];
  readonly failed: readonly { readonly move: PlannedMove; readonly error: string }[];
  /** Completed moves whose retired source copy could not be dropped yet (run `archipelago cleanup`). */
  readonly cleanupPending: readonly { readonly jobId: number; readonly error: string }[];
}

/** Carries out a plan's moves in order. @throws MoveStalledError (and stops) when a move stalls. */
export async function runRebalance(
  mover: Mover,
  plan: RebalancePlan,
  hooks: {
    onMove?: (move: PlannedMove, index: number) => void;
    onDone?: (job: JobRecord) => void;
  } = {},
): Promise<RebalanceOutcome> {
  const completed: JobRecord[] = [];
  const failed: { move: PlannedMove; error: string }[] = [];
  const cleanupPending: { jobId: number; error: string }[] = [];
  for (const [index, move] of plan.moves.entries()) {
    hooks.onMove?.(move, index);
    let job: JobRecord;
    try {
      job = await mover.move(move.microshard, move.to);
    } catch (error) {
      if (error instanceof MoveStalledError) throw error;
      failed.push({ move, error: (error as Error).message });
      continue;
    }
    completed.push(job);
    hooks.onDone?.(job);
    try {
      await mover.cleanup(job.id);
    } catch (error) {
      // The move is done; only its retired source copy is left for `archipelago cleanup`.
      cleanupPending.push({ jobId: job.id, error: (error as Error).message });
    }
  }
  return { completed, failed, cleanupPending };
}
