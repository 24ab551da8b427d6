import { expect, it } from "vitest";
import type { JobRecord } from "../jobs/job-store.js";
import { JobJson } from "./http-schemas.js";
import { createdJobJson, jobJson } from "./job-json.js";

const base: JobRecord = {
  id: 12,
  type: "move",
  parentId: 3,
  state: "stopped",
  stateReason: "hold",
  stoppedBy: "operator",
  owner: null,
  params: {},
  microshard: 42,
  sourceIsland: 1,
  targetIsland: 3,
  step: "catch-up",
  checkpoint: { slot: "x" },
  history: [
    { at: "2026-01-01T00:00:00.000Z", type: "created", detail: "move job created" },
    { at: "2026-01-01T00:00:01.000Z", type: "running", detail: "running" },
    { at: "2026-01-01T00:00:02.000Z", type: "running", detail: "running again" },
    { at: "2026-01-01T00:00:03.000Z", type: "stop", detail: "hold" },
  ],
  error: null,
  writeBlockMs: null,
  createdAt: new Date("2026-01-01T00:00:00Z"),
  updatedAt: new Date("2026-01-01T00:00:03Z"),
};

it("shows a job in CouchDB's field names, valid against its own schema", () => {
  const json = jobJson(base);
  expect(json).toMatchObject({
    id: 12,
    job_state: "stopped",
    step: "catch-up",
    source: 1,
    target: 3,
    parent_id: 3,
    start_time: "2026-01-01T00:00:01.000Z",
    update_time: "2026-01-01T00:00:03.000Z",
    created_time: "2026-01-01T00:00:00.000Z",
    state_info: { reason: "hold", stopped_by: "operator" },
  });
  expect(json.history[3]).toEqual({
    type: "stop",
    detail: "hold",
    timestamp: "2026-01-01T00:00:03.000Z",
  });
  expect(json).not.toHaveProperty("checkpoint");
  expect(JobJson.safeParse(json).success).toBe(true);
});

it("has no start time before the first run, nor once the history lost it", () => {
  expect(jobJson({ ...base, history: base.history.slice(0, 1) }).start_time).toBeNull();
  expect(jobJson({ ...base, history: base.history.slice(2) }).start_time).toBeNull();
  expect(jobJson({ ...base, stateReason: null, stoppedBy: null }).state_info).toEqual({});
  expect(
    jobJson({ ...base, state: "failed", error: { message: "boom" } }).state_info,
  ).toMatchObject({
    error: { message: "boom" },
  });
});

it("answers a created job with its id and placement", () => {
  expect(createdJobJson(base)).toEqual({
    ok: true,
    id: 12,
    type: "move",
    job_state: "stopped",
    parent_id: 3,
    microshard: 42,
    source: 1,
    target: 3,
  });
});
