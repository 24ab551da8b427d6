/**
 * What the operations page polls (`GET /_ops/status`): islands with their nodes and roles, the
 * microshards on each with sizes, the imbalance, live jobs with their progress, and recent moves.
 *
 * Assembled from reads any manager instance can make (the islands and the control catalog); the
 * fine-grained copy progress exists only in the process running the move, so elsewhere a move's
 * progress is its step. `opsStatusJson` is pure; `readOpsStatus` does the reads.
 */
import type { IslandMasters } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import { effectiveConfig } from "../jobs/draining-islands.js";
import type { JobControl } from "../jobs/job-control.js";
import type { JobRecord, ManagerState } from "../jobs/job-store.js";
import type { MoveProgress } from "../move/move-context.js";
import { isMoveStep, MOVE_STEPS } from "../move/move-steps.js";
import { type ClusterStatus, readClusterStatus } from "../status/cluster-status.js";
import type { OpsStatusResponse } from "./http-schemas.js";

/** Moves shown in the recent history. */
export const RECENT_MOVES = 20;

export interface OpsStatusDeps {
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly control: JobControl;
  /** Copy progress of moves run by this process, by job id. */
  readonly progress?: ReadonlyMap<number, MoveProgress>;
}

export async function readOpsStatus(deps: OpsStatusDeps): Promise<OpsStatus> {
  const store = await deps.control.store();
  const [global, live, jobs, config] = await Promise.all([
    store.managerState(),
    store.live(),
    store.list({ limit: 200, offset: Math.max(0, (await store.count()) - 200) }),
    effectiveConfig(deps.config, deps.masters),
  ]);
  const status = await readClusterStatus(config, deps.masters);
  return opsStatusJson({
    status,
    global,
    live,
    recent: jobs,
    progress: deps.progress ?? new Map(),
    now: new Date(),
  });
}

export type OpsStatus = OpsStatusResponse;

export function opsStatusJson(input: {
  status: ClusterStatus;
  global: ManagerState;
  live: readonly JobRecord[];
  /** The newest jobs (any state), oldest first. */
  recent: readonly JobRecord[];
  progress: ReadonlyMap<number, MoveProgress>;
  now: Date;
}): OpsStatusResponse {
  const { status, global } = input;
  return {
    generated_at: input.now.toISOString(),
    state: global.state,
    state_reason: global.reason,
    leader: global.leader,
    heartbeat_at: global.heartbeatAt?.toISOString() ?? null,
    imbalance: status.imbalance,
    violations: status.violations.length,
    islands: status.islands.map((i) => ({
      island: i.island,
      weight: i.weight,
      draining: i.draining,
      global: i.global,
      error: i.error,
      active_bytes: i.activeBytes,
      load: i.load,
      nodes: i.nodes.map((n) => ({
        name: n.name,
        address: `${n.host}:${n.port}`,
        role: n.role,
        lag_bytes: n.lagBytes,
      })),
      microshards: i.microshards.map((m) => ({
        microshard: m.microshard,
        state: m.state,
        bytes: m.bytes,
      })),
    })),
    jobs: input.live.map((job) => ({
      id: job.id,
      type: job.type,
      job_state: job.state,
      state_reason: job.stateReason,
      parent_id: job.parentId,
      microshard: job.microshard,
      source: job.sourceIsland,
      target: job.targetIsland,
      step: job.step,
      progress: jobProgress(job, input.progress.get(job.id)),
    })),
    recent_moves: input.recent
      .filter((j) => j.type === "move" && (j.state === "completed" || j.state === "failed"))
      .slice(-RECENT_MOVES)
      .reverse()
      .map((j) => ({
        id: j.id,
        microshard: j.microshard,
        source: j.sourceIsland,
        target: j.targetIsland,
        job_state: j.state,
        write_block_ms: j.writeBlockMs,
        ended_at: j.updatedAt.toISOString(),
        reason: j.stateReason,
      })),
  };
}

/**
 * A move's progress as a fraction: the steps done, and within the initial copy the tables copied
 * (the copy is most of a move's time). Other jobs have no steps to count: null.
 */
export function jobProgress(
  job: Pick<JobRecord, "type" | "step">,
  live: MoveProgress | undefined,
): { fraction: number; detail: string } | null {
  if (job.type !== "move") return null;
  const steps = MOVE_STEPS.length - 1; // `completed` is where the count ends
  const index = isMoveStep(job.step) ? MOVE_STEPS.indexOf(job.step) : 0;
  let within = 0;
  if (live && live.step === job.step && live.tablesTotal) {
    within = (live.tablesReady ?? 0) / live.tablesTotal;
  }
  return {
    fraction: Math.min(1, (Math.max(0, index) + within) / steps),
    detail: live && live.step === job.step ? live.detail : `step ${job.step}`,
  };
}
