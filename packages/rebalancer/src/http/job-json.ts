/**
 * A job record as the API shows it, in CouchDB `/_reshard` field names. Pure.
 *
 * `start_time` is when the job first ran (its first `running` history entry), as in CouchDB, where a
 * job that never started shows no start; `created_time` is when it was asked for. A job's history
 * keeps its last 100 entries, so for a job that old the first run may be gone: then `start_time`
 * falls back to null rather than to a later run's time, which would be wrong.
 */
import type { JobRecord } from "../jobs/job-store.js";
import type { CreatedJob, JobJson } from "./http-schemas.js";

export function jobJson(job: JobRecord): JobJson {
  const started = job.history.find((h) => h.type === "running");
  const keptFromCreation = job.history[0]?.type === "created";
  return {
    id: job.id,
    type: job.type,
    parent_id: job.parentId,
    job_state: job.state,
    step: job.step,
    microshard: job.microshard,
    source: job.sourceIsland,
    target: job.targetIsland,
    params: job.params,
    start_time: started && keptFromCreation ? started.at : null,
    update_time: job.updatedAt.toISOString(),
    created_time: job.createdAt.toISOString(),
    state_info: {
      ...(job.stateReason === null ? {} : { reason: job.stateReason }),
      ...(job.stoppedBy === null ? {} : { stopped_by: job.stoppedBy }),
      ...(job.error === null ? {} : { error: job.error }),
    },
    write_block_ms: job.writeBlockMs,
    history: job.history.map((h) => ({ type: h.type, detail: h.detail ?? null, timestamp: h.at })),
  };
}

/** One element of a POST /_reshard/jobs answer. */
export function createdJobJson(job: JobRecord): import("zod").infer<typeof CreatedJob> {
  return {
    ok: true,
    id: job.id,
    type: job.type,
    job_state: job.state,
    parent_id: job.parentId,
    microshard: job.microshard,
    source: job.sourceIsland,
    target: job.targetIsland,
  };
}
