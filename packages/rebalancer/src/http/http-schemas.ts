/**
 * The `/_reshard` API's requests and responses as zod schemas: the handlers validate with them and
 * the OpenAPI document (openapi-document.ts) is generated from them, so the two cannot drift apart.
 *
 * Request objects are strict: an unknown field (`"islnd": 3`) is a 400 naming it, not silently
 * ignored, because an ignored typo in a job request would start a different job than the one meant.
 * Field names are snake_case as in CouchDB's `/_reshard` (`job_state`, `state_info`, `total_rows`).
 */
import { z } from "zod";
import { JOB_STATES, JOB_TYPES } from "../jobs/job-store.js";

const island = z.number().int().min(1).describe("an island number from the cluster config");
const reason = z.string().max(1000).describe("why (kept with the state and in the job history)");

export const GlobalStateBody = z
  .object({ state: z.enum(["running", "stopped"]), reason: reason.optional() })
  .strict()
  .meta({ id: "GlobalStateBody" });

export const JobStateBody = z
  .object({
    state: z
      .enum(["running", "stopped"])
      .describe("stopped: stop the job (a move before its next step); running: resume it"),
    reason: reason.optional(),
  })
  .strict()
  .meta({ id: "JobStateBody" });

export const CreateJobBody = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("move"),
        microshard: z.number().int().min(1).max(9999).describe("the microshard to move"),
        island: island.describe("the island to move it to"),
      })
      .strict(),
    z
      .object({
        type: z.literal("rebalance"),
        threshold: z
          .number()
          .min(0)
          .lt(10)
          .optional()
          .describe("plan down to this deviation from each island's fair share (default 0.1)"),
        max_moves: z.number().int().min(1).optional().describe("at most this many moves"),
      })
      .strict(),
    z
      .object({
        type: z.literal("drain"),
        island: island.describe("the island to empty (it receives nothing until undrained)"),
        reason: reason.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal("allocate"),
        count: z.number().int().min(1).max(9999).describe("new microshards to create"),
      })
      .strict(),
    z
      .object({
        type: z.literal("cleanup"),
        job: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe("one completed move job whose retired copy to drop (default: all)"),
      })
      .strict(),
  ])
  .meta({ id: "CreateJobBody" });
export type CreateJobBody = z.infer<typeof CreateJobBody>;

export const JobIdParams = z
  .object({
    id: z
      .string()
      .regex(/^[1-9][0-9]{0,14}$/, "a job id is a positive integer")
      .transform(Number),
  })
  .strict();

export const JobsQuery = z
  .object({
    offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    state: z.enum(JOB_STATES).optional().describe("only jobs in this state"),
    type: z.enum(JOB_TYPES).optional().describe("only jobs of this type"),
  })
  .strict();

export const Ok = z.object({ ok: z.literal(true) }).meta({ id: "Ok" });

export const StateResponse = z
  .object({ state: z.string(), reason: z.string().nullable() })
  .meta({ id: "StateResponse" });

export const SummaryResponse = z
  .object({
    state: z.enum(["running", "stopped"]),
    state_reason: z.string().nullable(),
    new: z.number().int(),
    running: z.number().int(),
    stopped: z.number().int(),
    failed: z.number().int(),
    completed: z.number().int(),
    total: z.number().int(),
  })
  .meta({ id: "SummaryResponse" });

export const HistoryEntryJson = z.object({
  type: z.string().describe("created, running, step, stop, resume, global-stop, completed, …"),
  detail: z.string().nullable(),
  timestamp: z.string().describe("ISO 8601, UTC"),
});

export const JobJson = z
  .object({
    id: z.number().int(),
    type: z.enum(JOB_TYPES),
    parent_id: z.number().int().nullable(),
    job_state: z.enum(JOB_STATES),
    step: z
      .string()
      .describe("a move's step (precheck … completed); a parent's phase; `new` before it runs"),
    microshard: z.number().int().nullable(),
    source: z.number().int().nullable().describe("the source island of a move"),
    target: z.number().int().nullable().describe("the target island of a move"),
    params: z.record(z.string(), z.unknown()),
    start_time: z.string().nullable().describe("when it first ran; null if it never did"),
    update_time: z.string(),
    created_time: z.string(),
    state_info: z
      .object({
        reason: z.string().optional(),
        stopped_by: z.enum(["operator", "global"]).optional(),
        error: z.record(z.string(), z.unknown()).optional(),
      })
      .describe("why the job is in its state"),
    write_block_ms: z.number().nullable().describe("a completed move's write-block window"),
    history: z.array(HistoryEntryJson),
  })
  .meta({ id: "Job" });
export type JobJson = z.infer<typeof JobJson>;

export const JobsResponse = z
  .object({
    jobs: z.array(JobJson),
    offset: z.number().int(),
    limit: z.number().int(),
    total_rows: z.number().int(),
  })
  .meta({ id: "JobsResponse" });

export const CreatedJob = z.object({
  ok: z.literal(true),
  id: z.number().int(),
  type: z.enum(JOB_TYPES),
  job_state: z.enum(JOB_STATES),
  parent_id: z.number().int().nullable(),
  microshard: z.number().int().nullable(),
  source: z.number().int().nullable(),
  target: z.number().int().nullable(),
});
export const CreateJobResponse = z
  .array(CreatedJob)
  .describe("the job created; a rebalance or drain first, then each of its planned moves")
  .meta({ id: "CreateJobResponse" });

export const JobStateResponse = z
  .object({
    ok: z.literal(true),
    state: z.enum(JOB_STATES),
    reason: z.string().nullable(),
  })
  .meta({ id: "JobStateResponse" });

export const ErrorResponse = z
  .object({
    error: z
      .string()
      .describe("bad_request, unauthorized, not_found, method_not_allowed, conflict"),
    reason: z.string(),
    code: z.string().optional().describe("the Archipelago error code, e.g. MOVE_REFUSED"),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe("for an invalid request: each field and what is wrong with it"),
  })
  .catchall(z.unknown())
  .meta({ id: "Error" });
export type ErrorResponse = z.infer<typeof ErrorResponse>;

const Progress = z
  .object({ fraction: z.number().min(0).max(1), detail: z.string() })
  .nullable()
  .describe("a move's steps done (and tables copied); null for other jobs");

export const OpsStatusResponse = z
  .object({
    generated_at: z.string(),
    state: z.enum(["running", "stopped"]),
    state_reason: z.string().nullable(),
    leader: z.string().nullable(),
    heartbeat_at: z.string().nullable(),
    imbalance: z.number().nullable(),
    violations: z.number().int().describe("placement invariant breaches (0 when healthy)"),
    islands: z.array(
      z.object({
        island: z.number().int(),
        weight: z.number(),
        draining: z.boolean(),
        global: z.boolean(),
        error: z.string().nullable(),
        active_bytes: z.number().nullable(),
        load: z.number().nullable(),
        nodes: z.array(
          z.object({
            name: z.string(),
            address: z.string(),
            role: z.enum(["master", "replica", "down"]),
            lag_bytes: z.number().nullable(),
          }),
        ),
        microshards: z.array(
          z.object({ microshard: z.number().int(), state: z.string(), bytes: z.number() }),
        ),
      }),
    ),
    jobs: z.array(
      z.object({
        id: z.number().int(),
        type: z.enum(JOB_TYPES),
        job_state: z.enum(JOB_STATES),
        state_reason: z.string().nullable(),
        parent_id: z.number().int().nullable(),
        microshard: z.number().int().nullable(),
        source: z.number().int().nullable(),
        target: z.number().int().nullable(),
        step: z.string(),
        progress: Progress,
      }),
    ),
    recent_moves: z.array(
      z.object({
        id: z.number().int(),
        microshard: z.number().int().nullable(),
        source: z.number().int().nullable(),
        target: z.number().int().nullable(),
        job_state: z.enum(JOB_STATES),
        write_block_ms: z.number().nullable(),
        ended_at: z.string(),
        reason: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "OpsStatus" });
export type OpsStatusResponse = z.infer<typeof OpsStatusResponse>;
