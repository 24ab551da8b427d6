/**
 * Rebalance and drain jobs: parents whose work is a plan carried out by child move jobs.
 *
 * A parent is created already planned, together with its children (one move job each), in one
 * transaction, and its plan is kept in its checkpoint. A planned move whose microshard already has a
 * live move is skipped (the one-live-move-per-microshard index). A parent ends when its children have: completed if they all completed (and, for a
 * drain, the island is empty), failed otherwise. A drain re-plans up to DRAIN_ROUNDS times if the
 * island still holds microshards (one allocated on it meanwhile, a move that was refused).
 */
import { type IslandMasters, readCatalogs } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import type { RebalancePlan } from "../plan/plan-rebalance.js";
import { planFromCluster } from "../plan/rebalance.js";
import { effectiveConfig } from "./draining-islands.js";
import { type JobRecord, type JobStore, LIVE_JOB_STATES, type NewJob } from "./job-store.js";

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

export function parentParams(job: Pick<JobRecord, "params">): ParentParams {
  const p = job.params;
  return {
    threshold: typeof p.threshold === "number" ? p.threshold : DEFAULT_THRESHOLD,
    ...(typeof p.maxMoves === "number" ? { maxMoves: p.maxMoves } : {}),
    ...(typeof p.island === "number" ? { island: p.island } : {}),
  };
}

async function plan(deps: ParentJobDeps, params: ParentParams): Promise<RebalancePlan> {
  const config = await effectiveConfig(deps.config, deps.masters);
  return planFromCluster(config, deps.masters, {
    threshold: params.threshold,
    ...(params.maxMoves === undefined ? {} : { maxMoves: params.maxMoves }),
  });
}

function childJobs(planned: RebalancePlan): NewJob[] {
  return planned.moves.map((move) => ({
    type: "move",
    microshard: move.microshard,
    sourceIsland: move.from,
    targetIsland: move.to,
    checkpoint: { plannedBytes: move.bytes },
  }));
}

function planCheckpoint(planned: RebalancePlan, round: number): Record<string, unknown> {
  return {
    round,
    plan: {
      imbalanceBefore: planned.before.imbalance,
      imbalanceAfter: planned.after.imbalance,
      reachable: planned.reachable,
      moves: planned.moves.length,
      bytes: planned.moves.reduce((n, m) => n + m.bytes, 0),
      explanations: planned.explanations,
    },
  };
}

async function noteRound(
  deps: ParentJobDeps,
  jobId: number,
  round: number,
  planned: RebalancePlan,
  outcome: { children: readonly JobRecord[]; skipped: readonly NewJob[] },
): Promise<void> {
  for (const skipped of outcome.skipped) {
    await deps.store.note(
      jobId,
      "skipped",
      `microshard ${skipped.microshard} already has a live move; not planned again`,
    );
  }
  await deps.store.note(
    jobId,
    "planned",
    `round ${round}: ${outcome.children.length} move(s) planned` +
      (planned.reachable ? "" : `; balance not fully reachable: ${planned.explanations.join(" ")}`),
  );
}

/** Plans a rebalance or drain and creates it with its children, together (see JobStore.createFamily). */
export async function createParentJob(
  deps: ParentJobDeps,
  input: { type: "rebalance" | "drain"; params: Record<string, unknown> },
): Promise<{ job: JobRecord; plan: RebalancePlan; children: JobRecord[] }> {
  const params = parentParams({ params: input.params });
  const planned = await plan(deps, params);
  const family = await deps.store.createFamily(
    { ...input, step: "planned", checkpoint: planCheckpoint(planned, 1) },
    childJobs(planned),
  );
  await noteRound(deps, family.parent.id, 1, planned, family);
  return { job: family.parent, plan: planned, children: family.children };
}

/** A drain's next round: plans again and adds children. Only the leading manager calls it. */
async function replanParentJob(deps: ParentJobDeps, job: JobRecord): Promise<JobRecord[]> {
  const round = (typeof job.checkpoint.round === "number" ? job.checkpoint.round : 1) + 1;
  const planned = await plan(deps, parentParams(job));
  const added = await deps.store.addChildren(job.id, childJobs(planned));
  await deps.store.checkpoint(job.id, "planned", planCheckpoint(planned, round));
  await noteRound(deps, job.id, round, planned, added);
  return added.children;
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
        const more = await replanParentJob(deps, job);
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
