/**
 * Rebalance and drain jobs: parents whose work is a plan carried out by child move jobs.
 *
 * Planning creates the children (one move job each) and records the plan in the parent's checkpoint;
 * it is safe to repeat: a child that already exists is refused by the one-live-move-per-microshard
 * index and skipped. A parent ends when its children have: completed if they all completed (and, for a
 * drain, the island is empty), failed otherwise. A drain re-plans up to DRAIN_ROUNDS times if the
 * island still holds microshards (one allocated on it meanwhile, a move that was refused).
 */
import { type IslandMasters, readCatalogs } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import type { RebalancePlan } from "../plan/plan-rebalance.js";
import { planFromCluster } from "../plan/rebalance.js";
import { readDrainingIslands, withDraining } from "./draining-islands.js";
import { type JobRecord, type JobStore, LIVE_JOB_STATES } from "./job-store.js";

export const DRAIN_ROUNDS = 3;
export const DEFAULT_THRESHOLD = 0.1;

export interface ParentJobDeps {
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly store: JobStore;
}

/** The parameters of a rebalance or drain, as stored in the job. */
export interface ParentParams {
  readonly threshold: number;
  readonly maxMoves?: number;
  /** A drain's island. */
  readonly island?: number;
}

export function parentParams(job: JobRecord): ParentParams {
  const p = job.params;
  return {
    threshold: typeof p.threshold === "number" ? p.threshold : DEFAULT_THRESHOLD,
    ...(typeof p.maxMoves === "number" ? { maxMoves: p.maxMoves } : {}),
    ...(typeof p.island === "number" ? { island: p.island } : {}),
  };
}

/** The config as the planner must see it: islands marked draining in the control catalog included. */
export async function effectiveConfig(
  config: ClusterConfig,
  masters: IslandMasters,
): Promise<ClusterConfig> {
  return withDraining(config, await readDrainingIslands(await masters.pool(config.globalIsland)));
}

/** Plans (another round of) a parent job and creates its children. */
export async function planParentJob(
  deps: ParentJobDeps,
  job: JobRecord,
): Promise<{ plan: RebalancePlan; children: JobRecord[] }> {
  const params = parentParams(job);
  const config = await effectiveConfig(deps.config, deps.masters);
  const plan = await planFromCluster(config, deps.masters, {
    threshold: params.threshold,
    ...(params.maxMoves === undefined ? {} : { maxMoves: params.maxMoves }),
  });
  const round = (typeof job.checkpoint.round === "number" ? job.checkpoint.round : 0) + 1;
  const children: JobRecord[] = [];
  for (const move of plan.moves) {
    try {
      children.push(
        await deps.store.createMove({
          microshard: move.microshard,
          sourceIsland: move.from,
          targetIsland: move.to,
          parentId: job.id,
          checkpoint: { plannedBytes: move.bytes },
        }),
      );
    } catch (error) {
      if ((error as { code?: string }).code !== "23505") throw error;
      await deps.store.note(
        job.id,
        "skipped",
        `microshard ${move.microshard} already has a live move; not planned again`,
      );
    }
  }
  await deps.store.checkpoint(job.id, "planned", {
    round,
    plan: {
      imbalanceBefore: plan.before.imbalance,
      imbalanceAfter: plan.after.imbalance,
      reachable: plan.reachable,
      moves: plan.moves.length,
      bytes: plan.moves.reduce((n, m) => n + m.bytes, 0),
      explanations: plan.explanations,
    },
  });
  await deps.store.note(
    job.id,
    "planned",
    `round ${round}: ${children.length} move(s) planned` +
      (plan.reachable ? "" : "; balance not fully reachable"),
  );
  return { plan, children };
}

export type ParentProgress = "waiting" | "replanned" | "finished";

/** Ends a parent whose children have all ended (or plans a drain's next round). */
export async function settleParentJob(
  deps: ParentJobDeps,
  job: JobRecord,
): Promise<ParentProgress> {
  const children = await deps.store.children(job.id);
  if (children.some((c) => LIVE_JOB_STATES.includes(c.state))) return "waiting";
  const failed = children.filter((c) => c.state === "failed");
  const done = children.length - failed.length;
  if (failed.length > 0) {
    await deps.store.setState(
      job.id,
      "failed",
      `${failed.length} of ${children.length} move(s) failed: job(s) ${failed.map((c) => c.id).join(", ")}; ` +
        "resume this job to retry them",
    );
    return "finished";
  }
  const island = parentParams(job).island;
  if (job.type === "drain" && island !== undefined) {
    const left = (await readCatalogs(deps.masters)).filter(
      (r) => r.island === island && r.state === "active" && r.microshard !== 0,
    );
    if (left.length > 0) {
      const round = typeof job.checkpoint.round === "number" ? job.checkpoint.round : 0;
      if (round < DRAIN_ROUNDS) {
        const { children: more } = await planParentJob(deps, job);
        if (more.length > 0) return "replanned";
      }
      await deps.store.setState(
        job.id,
        "failed",
        `island ${island} still holds ${left.length} microshard(s) after ${round} round(s) ` +
          "(see the job's history for what the planner said); resume this job to try again",
      );
      return "finished";
    }
  }
  await deps.store.setState(
    job.id,
    "completed",
    job.type === "drain"
      ? `island ${island} is empty (${done} move(s)); it can be removed from the config`
      : `${done} move(s) done`,
  );
  return "finished";
}
