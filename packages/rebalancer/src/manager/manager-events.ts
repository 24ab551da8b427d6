/** What the shard manager reports, as it happens (the CLI prints them as JSON lines). */
import type { JobRecord } from "../jobs/job-store.js";
import type { AutoDecision } from "./auto-rebalance.js";

export type ManagerEvent =
  | { readonly type: "lead-taken"; readonly identity: string }
  | { readonly type: "lead-lost"; readonly identity: string; readonly reason: string }
  | {
      readonly type: "measured";
      readonly imbalance: number | null;
      readonly islands: readonly { island: number; bytes: number | null; microshards: number }[];
    }
  | { readonly type: "map-published"; readonly epoch: number }
  | { readonly type: "auto"; readonly decision: AutoDecision; readonly jobId: number | null }
  | {
      readonly type: "job-started";
      readonly jobId: number;
      readonly job: string;
      readonly microshard: number | null;
      readonly source: number | null;
      readonly target: number | null;
    }
  | {
      readonly type: "job-ended";
      readonly jobId: number;
      readonly job: string;
      /** completed, failed, stopped, or interrupted (this process stopped leading or shut down). */
      readonly outcome: "completed" | "failed" | "stopped" | "interrupted";
      readonly detail: string;
      readonly writeBlockMs?: number;
    }
  | { readonly type: "error"; readonly during: string; readonly message: string };

/** The `job-started` event of a job (a drain's island is its source). */
export function jobStarted(job: JobRecord): ManagerEvent {
  return {
    type: "job-started",
    jobId: job.id,
    job: job.type,
    microshard: job.microshard,
    source: job.sourceIsland ?? (typeof job.params.island === "number" ? job.params.island : null),
    target: job.targetIsland,
  };
}
