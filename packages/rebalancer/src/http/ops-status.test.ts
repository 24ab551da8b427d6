import { expect, it } from "vitest";
import type { JobRecord, ManagerState } from "../jobs/job-store.js";
import type { ClusterStatus } from "../status/cluster-status.js";
import { OpsStatusResponse } from "./http-schemas.js";
import { jobProgress, opsStatusJson, RECENT_MOVES } from "./ops-status.js";

it("a move's progress is its steps done, and the tables copied within the initial copy", () => {
  expect(jobProgress({ type: "move", step: "precheck" }, undefined)).toEqual({
    fraction: 0,
    detail: "step precheck",
  });
  const copy = jobProgress(
    { type: "move", step: "initial-copy" },
    { jobId: 1, step: "initial-copy", detail: "1/2 tables copied", tablesReady: 1, tablesTotal: 2 },
  );
  expect(copy).toEqual({ fraction: 3.5 / 8, detail: "1/2 tables copied" });
  // Progress of an earlier step does not count toward the current one.
  const stale = jobProgress(
    { type: "move", step: "catch-up" },
    { jobId: 1, step: "initial-copy", detail: "", tablesReady: 2, tablesTotal: 2 },
  );
  expect(stale).toEqual({ fraction: 4 / 8, detail: "step catch-up" });
  expect(jobProgress({ type: "move", step: "completed" }, undefined)?.fraction).toBe(1);
  expect(jobProgress({ type: "rebalance", step: "planned" }, undefined)).toBeNull();
});

function move(id: number, state: JobRecord["state"]): JobRecord {
  return {
    id,
    type: "move",
    parentId: null,
    state,
    stateReason: null,
    stoppedBy: null,
    owner: null,
    params: {},
    microshard: id,
    sourceIsland: 1,
    targetIsland: 2,
    step: state === "completed" ? "completed" : "initial-copy",
    checkpoint: {},
    history: [],
    error: null,
    writeBlockMs: state === "completed" ? 12 : null,
    createdAt: new Date(0),
    updatedAt: new Date(id * 1000),
  };
}

it("shows islands, live jobs and the newest moves first", () => {
  const status: ClusterStatus = {
    globalIsland: 1,
    imbalance: 1.5,
    violations: [],
    islands: [
      {
        island: 1,
        weight: 1,
        draining: false,
        global: true,
        nodes: [
          {
            name: "i1-master",
            host: "127.0.0.1",
            port: 5001,
            role: "master",
            lagBytes: null,
            error: null,
          },
          {
            name: "i1-replica",
            host: "127.0.0.1",
            port: 5002,
            role: "replica",
            lagBytes: 0,
            error: null,
          },
        ],
        microshards: [
          {
            microshard: 0,
            schema: "sh0000",
            state: "active",
            generation: 1,
            weightFactor: 1,
            bytes: 10,
          },
        ],
        activeBytes: 10,
        totalBytes: 10,
        load: 1.5,
        error: null,
      },
    ],
  };
  const global: ManagerState = {
    state: "running",
    reason: null,
    updatedAt: new Date(0),
    leader: "host:1",
    leaderSince: null,
    heartbeatAt: new Date(5000),
    measurement: null,
  };
  const recent = Array.from({ length: RECENT_MOVES + 5 }, (_, i) => move(i + 1, "completed"));
  const json = opsStatusJson({
    status,
    global,
    live: [move(99, "running")],
    recent: [...recent, move(99, "running")],
    progress: new Map(),
    now: new Date(10_000),
  });
  expect(json.islands[0]?.nodes.map((n) => [n.address, n.role])).toEqual([
    ["127.0.0.1:5001", "master"],
    ["127.0.0.1:5002", "replica"],
  ]);
  expect(json.jobs).toEqual([
    expect.objectContaining({
      id: 99,
      step: "initial-copy",
      progress: { fraction: 3 / 8, detail: "step initial-copy" },
    }),
  ]);
  expect(OpsStatusResponse.safeParse(json).error).toBeUndefined();
  expect(json.recent_moves).toHaveLength(RECENT_MOVES);
  expect(json.recent_moves[0]).toMatchObject({ id: RECENT_MOVES + 5, write_block_ms: 12 });
  expect(json).toMatchObject({
    leader: "host:1",
    imbalance: 1.5,
    heartbeat_at: "1970-01-01T00:00:05.000Z",
  });
});
