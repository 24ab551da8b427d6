/**
 * The `/_reshard` HTTP API against a real 2-island cluster, in the spirit of CouchDB's
 * mem3_reshard_api_test: every endpoint, every error code (400, 401, 404, 405, 409), the global and
 * per-job state semantics, a failed job that stays failed until resumed, a manager restarted in the
 * middle of a move (the job resumes from its checkpoint and completes), /metrics after real moves,
 * and the OpenAPI document covering every route. One cluster and one server for the whole file.
 */
import { IslandMasters, readCatalogs } from "@archipelago/migrate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClientFixture,
  eventually,
  startClientFixture,
  TEST_MIGRATIONS,
} from "../../../test/helpers/cluster-fixture.js";
import {
  CreateJobResponse,
  JobsResponse,
  OpsStatusResponse,
  SummaryResponse,
} from "../src/http/http-schemas.js";
import { type ManagerHttp, ManagerMetrics, startManagerHttp } from "../src/http/index.js";
import { JobControl, Manager } from "../src/index.js";
import { allocateOnlyOn } from "./helpers/cluster-setup.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

const TOKEN = "test-token-0123456789abcdef";

let fx: ClientFixture;
let masters: IslandMasters;
let control: JobControl;
let metrics: ManagerMetrics;
let manager: Manager | undefined;
let http: ManagerHttp;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, inspected by the assertions
  readonly body: any;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; raw?: string; contentType?: string } = {},
): Promise<Reply> {
  const token = options.token === undefined ? TOKEN : options.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const response = await fetch(`${http.url}${path}`, { method, headers, body: payload ?? null });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes("json") && text ? JSON.parse(text) : text,
  };
}

function startManager(options: { migrations?: boolean } = {}): Manager {
  manager = new Manager({
    config: fx.local.config,
    masters,
    options: {
      tickMs: 100,
      measureEveryMs: 300,
      ...(options.migrations === false ? {} : { migrations: TEST_MIGRATIONS }),
    },
    onEvent: metrics.onEvent,
    onMoveProgress: metrics.onMoveProgress,
  }).start();
  return manager;
}

async function stopManager(): Promise<void> {
  await manager?.close();
  manager = undefined;
}

/** The fixture's `eventually`, with these tests' longer default wait (moves run meanwhile). */
function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) {
  return eventually(check, what, timeoutMs);
}

async function jobIn(id: number, states: readonly string[], timeoutMs = 30_000) {
  return until(
    async () => {
      const reply = await call("GET", `/_reshard/jobs/${id}`);
      return states.includes(reply.body.job_state) ? reply.body : undefined;
    },
    `job ${id} to be ${states.join(" or ")}`,
    timeoutMs,
  );
}

async function placement(): Promise<Map<number, number>> {
  const rows = await readCatalogs(masters);
  return new Map(rows.filter((r) => r.state === "active").map((r) => [r.microshard, r.island]));
}

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 0, microshards: 0 });
  // Six microshards, all on island 1 (island 2 draining while allocating), a few rows each.
  await allocateOnlyOn(fx.local.config, 6, [1]);
  masters = new IslandMasters(fx.local.config);
  control = new JobControl({ config: fx.local.config, masters });
  for (let m = 1; m <= 6; m++) {
    await fx.local
      .master(1)
      .query(
        `INSERT INTO sh000${m}.items (n, note) SELECT g, repeat('x', 100) FROM generate_series(1, 500) g`,
      );
  }
  metrics = new ManagerMetrics().observeClient(fx.cluster.events);
  http = await startManagerHttp({
    config: fx.local.config,
    masters,
    control,
    token: TOKEN,
    metrics,
    isLeader: () => manager?.isLeader ?? false,
    port: 0,
  });
});

afterAll(async () => {
  await stopManager();
  await http?.close();
  await masters?.end();
  await fx?.stop();
});

describe("auth and routing", () => {
  it("binds to loopback by default", () => {
    expect(new URL(http.url).hostname).toBe("127.0.0.1");
  });

  it("401 without the bearer token or with a wrong one, on every data endpoint", async () => {
    for (const path of [
      "/_reshard",
      "/_reshard/jobs",
      "/_reshard/jobs/1",
      "/metrics",
      "/_ops/status",
    ]) {
      const none = await call("GET", path, undefined, { token: null });
      expect(none.status, path).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(none.body).toMatchObject({ error: "unauthorized" });
      const wrong = await call("GET", path, undefined, { token: `${TOKEN}x` });
      expect(wrong.status, path).toBe(401);
    }
    // An unauthenticated request changes nothing.
    const before = (await control.globalState()).state;
    expect(
      (await call("PUT", "/_reshard/state", { state: "stopped" }, { token: null })).status,
    ).toBe(401);
    expect((await control.globalState()).state).toBe(before);
    expect(
      JSON.stringify((await call("GET", "/_reshard", undefined, { token: null })).body),
    ).not.toContain(TOKEN);
  });

  it("the operations page's files are public (they hold no data)", async () => {
    const page = await call("GET", "/", undefined, { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await call("GET", "/ops-page.js", undefined, { token: null })).status).toBe(200);
  });

  it("404 for unknown paths and unknown jobs, 400 for a malformed job id", async () => {
    expect(await call("GET", "/_reshard/nope")).toMatchObject({
      status: 404,
      body: { error: "not_found" },
    });
    for (const [method, path, body] of [
      ["GET", "/_reshard/jobs/999999", undefined],
      ["DELETE", "/_reshard/jobs/999999", undefined],
      ["GET", "/_reshard/jobs/999999/state", undefined],
      ["PUT", "/_reshard/jobs/999999/state", { state: "stopped" }],
    ] as const) {
      const reply = await call(method, path, body);
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body).toMatchObject({
        error: "not_found",
        code: "JOB_NOT_FOUND",
        jobId: 999999,
      });
    }
    for (const id of ["abc", "0", "-1", "1.5", "99999999999999999999"]) {
      const reply = await call("GET", `/_reshard/jobs/${id}`);
      expect(reply.status, id).toBe(400);
      expect(reply.body.issues).toEqual([{ field: "id", message: expect.any(String) }]);
    }
  });

  it("405 with Allow for a known path asked with another method", async () => {
    for (const [method, path, allow] of [
      ["POST", "/_reshard", "GET, HEAD"],
      ["DELETE", "/_reshard/state", "GET, PUT, HEAD"],
      ["PUT", "/_reshard/jobs", "GET, POST, HEAD"],
      ["POST", "/_reshard/jobs/1", "GET, DELETE, HEAD"],
      ["DELETE", "/_reshard/jobs/1/state", "GET, PUT, HEAD"],
      ["PATCH", "/metrics", "GET, HEAD"],
    ] as const) {
      const reply = await call(method, path);
      expect(reply.status, `${method} ${path}`).toBe(405);
      expect(reply.headers.get("allow")).toBe(allow);
      expect(reply.body).toMatchObject({ error: "method_not_allowed" });
    }
  });
});

describe("400: invalid requests name the field, and change nothing", () => {
  it("bodies", async () => {
    const count = async () => (await call("GET", "/_reshard")).body.total;
    const before = await count();
    const cases: [string, string, unknown, string[]][] = [
      ["POST", "/_reshard/jobs", { type: "move", microshard: "1", island: 2 }, ["microshard"]],
      ["POST", "/_reshard/jobs", { type: "move", microshard: 1 }, ["island"]],
      ["POST", "/_reshard/jobs", { type: "move", microshard: 1, island: 2, islnd: 3 }, ["islnd"]],
      ["POST", "/_reshard/jobs", { type: "move", microshard: 0, island: 2 }, ["microshard"]],
      ["POST", "/_reshard/jobs", { type: "move", microshard: 10000, island: 2 }, ["microshard"]],
      ["POST", "/_reshard/jobs", { type: "split" }, ["type"]],
      ["POST", "/_reshard/jobs", {}, ["type"]],
      ["POST", "/_reshard/jobs", [1, 2], ["(root)"]],
      ["POST", "/_reshard/jobs", { type: "rebalance", threshold: -1 }, ["threshold"]],
      ["POST", "/_reshard/jobs", { type: "rebalance", threshold: 10 }, ["threshold"]],
      ["POST", "/_reshard/jobs", { type: "rebalance", max_moves: 0 }, ["max_moves"]],
      ["POST", "/_reshard/jobs", { type: "allocate", count: 1.5 }, ["count"]],
      ["POST", "/_reshard/jobs", { type: "drain" }, ["island"]],
      ["PUT", "/_reshard/state", { state: "paused" }, ["state"]],
      ["PUT", "/_reshard/state", { reason: "no state" }, ["state"]],
      ["PUT", "/_reshard/state", { state: "stopped", reason: 5 }, ["reason"]],
      ["PUT", "/_reshard/jobs/1/state", { state: "completed" }, ["state"]],
    ];
    for (const [method, path, body, fields] of cases) {
      const reply = await call(method, path, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body).toMatchObject({ error: "bad_request", code: "INVALID_REQUEST" });
      expect(reply.body.issues.map((i: { field: string }) => i.field)).toEqual(fields);
    }
    expect(await count()).toBe(before);
  });

  it("malformed, empty, non-JSON and oversized bodies", async () => {
    const malformed = await call("POST", "/_reshard/jobs", undefined, { raw: '{"type": "move",' });
    expect(malformed).toMatchObject({ status: 400, body: { error: "bad_request" } });
    const empty = await call("POST", "/_reshard/jobs", undefined, { raw: "" });
    expect(empty.status).toBe(400);
    const none = await fetch(`${http.url}/_reshard/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(none.status).toBe(400);
    const text = await call("POST", "/_reshard/jobs", undefined, {
      raw: "type=move",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(text).toMatchObject({ status: 415, body: { error: "unsupported_media_type" } });
    const huge = await call("POST", "/_reshard/jobs", {
      type: "drain",
      island: 2,
      reason: "x".repeat(70_000),
    });
    expect(huge).toMatchObject({ status: 413, body: { error: "payload_too_large" } });
  });

  it("queries and requests the job control refuses", async () => {
    for (const query of ["offset=-1", "limit=0", "limit=1001", "limit=abc", "offset=1&page=2"]) {
      const reply = await call("GET", `/_reshard/jobs?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.code).toBe("INVALID_REQUEST");
    }
    const unknownIsland = await call("POST", "/_reshard/jobs", {
      type: "move",
      microshard: 1,
      island: 9,
    });
    expect(unknownIsland).toMatchObject({ status: 400, body: { code: "JOB_REQUEST" } });
    expect(unknownIsland.body.reason).toContain("island 9");
    const globalDrain = await call("POST", "/_reshard/jobs", { type: "drain", island: 1 });
    expect(globalDrain).toMatchObject({ status: 400, body: { code: "JOB_REQUEST" } });
    const notAMove = await call("POST", "/_reshard/jobs", { type: "cleanup", job: 999999 });
    expect(notAMove).toMatchObject({ status: 404, body: { code: "JOB_NOT_FOUND" } });
  });
});

describe("jobs and the global switch (no manager running until stated)", () => {
  it("the summary and the global state, persisted in the catalog", async () => {
    expect(
      await call("PUT", "/_reshard/state", { state: "stopped", reason: "maintenance" }),
    ).toMatchObject({ status: 200, body: { ok: true } });
    expect((await call("GET", "/_reshard/state")).body).toEqual({
      state: "stopped",
      reason: "maintenance",
    });
    const summary = await call("GET", "/_reshard");
    expect(summary.body).toMatchObject({ state: "stopped", state_reason: "maintenance" });
    for (const key of ["new", "running", "stopped", "failed", "completed", "total"]) {
      expect(summary.body[key], key).toEqual(expect.any(Number));
    }
    // Every manager instance reads it from the catalog, not from this server's memory.
    expect((await control.globalState()).state).toBe("stopped");
  });

  it("jobs created while stopped wait; one stopped by hand stays stopped across the switch", async () => {
    const created = await call("POST", "/_reshard/jobs", {
      type: "move",
      microshard: 1,
      island: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual([
      {
        ok: true,
        id: expect.any(Number),
        type: "move",
        job_state: "stopped",
        parent_id: null,
        microshard: 1,
        source: 1,
        target: 2,
      },
    ]);
    const a = created.body[0].id as number;
    const b = (await call("POST", "/_reshard/jobs", { type: "move", microshard: 2, island: 2 }))
      .body[0].id;
    const held = await call("PUT", `/_reshard/jobs/${b}/state`, {
      state: "stopped",
      reason: "hold this one",
    });
    expect(held.body).toEqual({ ok: true, state: "stopped", reason: "hold this one" });

    const job = (await call("GET", `/_reshard/jobs/${a}`)).body;
    expect(job).toMatchObject({
      id: a,
      type: "move",
      job_state: "stopped",
      step: "new",
      microshard: 1,
      source: 1,
      target: 2,
      start_time: null,
      state_info: { reason: "the manager is stopped: maintenance", stopped_by: "global" },
    });
    expect(job.history[0]).toEqual({
      type: "created",
      detail: expect.any(String),
      timestamp: expect.any(String),
    });
    expect(Date.parse(job.update_time)).toBeGreaterThan(0);
    expect((await call("GET", `/_reshard/jobs/${b}/state`)).body).toEqual({
      state: "stopped",
      reason: "hold this one",
    });

    // 409s: a second move of a microshard with a live move, a move to where it already is.
    const twice = await call("POST", "/_reshard/jobs", { type: "move", microshard: 1, island: 2 });
    expect(twice).toMatchObject({
      status: 409,
      body: { error: "conflict", code: "MOVE_REFUSED", microshard: 1 },
    });
    const there = await call("POST", "/_reshard/jobs", { type: "move", microshard: 3, island: 1 });
    expect(there).toMatchObject({ status: 409, body: { code: "MOVE_REFUSED" } });

    startManager();
    await new Promise((r) => setTimeout(r, 800));
    expect((await call("GET", `/_reshard/jobs/${a}`)).body).toMatchObject({
      job_state: "stopped",
      step: "new",
    });

    expect(
      (await call("PUT", "/_reshard/state", { state: "running", reason: "done" })).status,
    ).toBe(200);
    const ran = await jobIn(a, ["completed", "failed"]);
    expect(ran).toMatchObject({ job_state: "completed", step: "completed" });
    expect(ran.start_time).toEqual(expect.any(String));
    expect(ran.write_block_ms).toEqual(expect.any(Number));
    expect(ran.history.map((h: { type: string }) => h.type)).toEqual(
      expect.arrayContaining(["created", "global-start", "running", "step", "completed"]),
    );
    expect((await call("GET", `/_reshard/jobs/${b}`)).body).toMatchObject({
      job_state: "stopped",
      state_info: { stopped_by: "operator" },
    });
    expect((await placement()).get(2)).toBe(1);

    const resumed = await call("PUT", `/_reshard/jobs/${b}/state`, { state: "running" });
    expect(resumed.body).toMatchObject({ ok: true, state: "new" });
    expect(await jobIn(b, ["completed", "failed"])).toMatchObject({ job_state: "completed" });
    expect((await placement()).get(2)).toBe(2);

    // Completed jobs ignore stop and resume.
    for (const state of ["stopped", "running"]) {
      const ignored = await call("PUT", `/_reshard/jobs/${a}/state`, { state });
      expect(ignored.body).toMatchObject({ ok: true, state: "completed" });
    }
  });

  it("a failed job stays failed across the global switch until it is resumed", async () => {
    const microshards = (await placement()).size;
    await stopManager();
    // This manager has no migrations, so an allocate job fails.
    startManager({ migrations: false });
    const [job] = (await call("POST", "/_reshard/jobs", { type: "allocate", count: 1 })).body;
    expect(job).toMatchObject({ ok: true, type: "allocate" });
    const failed = await jobIn(job.id, ["failed", "completed"]);
    expect(failed).toMatchObject({
      job_state: "failed",
      state_info: { error: { message: expect.any(String) } },
    });
    await call("PUT", "/_reshard/state", { state: "stopped", reason: "flip" });
    await call("PUT", "/_reshard/state", { state: "running", reason: "flop" });
    await new Promise((r) => setTimeout(r, 300));
    expect((await call("GET", `/_reshard/jobs/${job.id}/state`)).body.state).toBe("failed");
    await stopManager();
    startManager();
    await new Promise((r) => setTimeout(r, 300));
    expect((await call("GET", `/_reshard/jobs/${job.id}/state`)).body.state).toBe("failed");
    await call("PUT", `/_reshard/jobs/${job.id}/state`, {
      state: "running",
      reason: "with migrations now",
    });
    expect(await jobIn(job.id, ["completed", "failed"])).toMatchObject({ job_state: "completed" });
    expect((await placement()).size).toBe(microshards + 1);
  });

  it("a rebalance answers with its planned moves; a second one conflicts; a drained target refuses moves", async () => {
    const created = await call("POST", "/_reshard/jobs", { type: "rebalance", threshold: 0.05 });
    expect(created.status).toBe(201);
    expect(CreateJobResponse.safeParse(created.body).error).toBeUndefined();
    const [parent, ...children] = created.body;
    expect(parent).toMatchObject({ ok: true, type: "rebalance", parent_id: null });
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) {
      expect(child).toMatchObject({
        ok: true,
        type: "move",
        parent_id: parent.id,
        target: expect.any(Number),
      });
    }
    const again = await call("POST", "/_reshard/jobs", { type: "rebalance" });
    expect(again).toMatchObject({
      status: 409,
      body: { code: "JOB_CONFLICT", conflictingJobId: parent.id },
    });
    expect(await jobIn(parent.id, ["completed", "failed"], 60_000)).toMatchObject({
      job_state: "completed",
    });
    for (const child of children) {
      expect((await call("GET", `/_reshard/jobs/${child.id}/state`)).body.state).toBe("completed");
    }

    const drain = await call("POST", "/_reshard/jobs", {
      type: "drain",
      island: 2,
      reason: "test",
    });
    expect(drain.status).toBe(201);
    const onOne = [...(await placement())].find(([m, i]) => m !== 0 && i === 1)?.[0] as number;
    const refused = await call("POST", "/_reshard/jobs", {
      type: "move",
      microshard: onOne,
      island: 2,
    });
    expect(refused).toMatchObject({ status: 409, body: { code: "MOVE_REFUSED" } });
    expect(refused.body.reason).toMatch(/draining/);
    expect(await jobIn(drain.body[0].id, ["completed", "failed"], 60_000)).toMatchObject({
      job_state: "completed",
    });
    await control.undrain(2);
  });

  it("a manager closed mid-move leaves the job running; the next one resumes it from its checkpoint", async () => {
    // One of the six with rows (the allocated seventh is empty).
    const microshard = [...(await placement())].find(
      ([m, i]) => m >= 1 && m <= 6 && i === 1,
    )?.[0] as number;
    expect(microshard).toEqual(expect.any(Number));
    // An open transaction with an xid on the source holds the move at start-replication (a logical
    // slot waits for running transactions), so the close lands mid-move every time.
    const holder = await (await masters.pool(1)).connect();
    let committed = false;
    try {
      await holder.query("BEGIN");
      await holder.query(
        `INSERT INTO sh${String(microshard).padStart(4, "0")}.items (n) VALUES (900001)`,
      );
      const [job] = (await call("POST", "/_reshard/jobs", { type: "move", microshard, island: 2 }))
        .body;
      await until(
        async () =>
          (await call("GET", `/_reshard/jobs/${job.id}`)).body.step === "start-replication"
            ? true
            : undefined,
        "the move to reach start-replication",
      );
      const closing = stopManager();
      await holder.query("COMMIT");
      committed = true;
      await closing;
      const left = (await call("GET", `/_reshard/jobs/${job.id}`)).body;
      expect(left.job_state).toBe("running");
      expect(left.step).not.toBe("completed");
      expect((await placement()).get(microshard)).toBe(1);

      startManager();
      const done = await jobIn(job.id, ["completed", "failed"]);
      expect(done).toMatchObject({ job_state: "completed" });
      expect(
        done.history.filter((h: { type: string }) => h.type === "running").length,
      ).toBeGreaterThanOrEqual(2);
      expect((await placement()).get(microshard)).toBe(2);
      const rows = await fx.local
        .master(2)
        .query(`SELECT count(*)::int AS n FROM sh${String(microshard).padStart(4, "0")}.items`);
      expect(rows[0]).toEqual({ n: 501 });
    } finally {
      if (!committed) await holder.query("ROLLBACK").catch(() => {});
      holder.release();
    }
  });

  it("lists with pagination; deletes finished jobs, refuses running ones", async () => {
    const total = (await call("GET", "/_reshard")).body.total as number;
    expect(total).toBeGreaterThan(4);
    const page = await call("GET", "/_reshard/jobs?offset=1&limit=2");
    expect(page.body).toMatchObject({ offset: 1, limit: 2, total_rows: total });
    // Answers match the schemas the OpenAPI document publishes.
    expect(JobsResponse.safeParse(page.body).error).toBeUndefined();
    expect(SummaryResponse.safeParse((await call("GET", "/_reshard")).body).error).toBeUndefined();
    expect(page.body.jobs).toHaveLength(2);
    const all = (await call("GET", "/_reshard/jobs?limit=1000")).body.jobs as {
      id: number;
      type: string;
      job_state: string;
    }[];
    expect(all).toHaveLength(total);
    expect(page.body.jobs.map((j: { id: number }) => j.id)).toEqual(
      all.slice(1, 3).map((j) => j.id),
    );
    const completedMoves = all.filter((j) => j.type === "move" && j.job_state === "completed");
    const filtered = await call("GET", "/_reshard/jobs?state=completed&type=move&limit=2&offset=1");
    expect(filtered.body.total_rows).toBe(completedMoves.length);
    expect(filtered.body.jobs.map((j: { id: number }) => j.id)).toEqual(
      completedMoves.slice(1, 3).map((j) => j.id),
    );
    for (const bad of ["state=done", "type=split"]) {
      expect((await call("GET", `/_reshard/jobs?${bad}`)).body.issues[0].field).toBe(
        bad.split("=")[0],
      );
    }
    const past = await call("GET", `/_reshard/jobs?offset=${total}`);
    expect(past.body).toMatchObject({ jobs: [], total_rows: total });

    // A running job cannot be deleted: stop it first. (No manager runs while the test holds the
    // cleanup job running, so nothing else finishes it under the test.)
    await stopManager();
    const [cleanup] = (await call("POST", "/_reshard/jobs", { type: "cleanup" })).body;
    const store = await control.store();
    expect(await store.claim(cleanup.id, "test: held running")).toMatchObject({ state: "running" });
    const refused = await call("DELETE", `/_reshard/jobs/${cleanup.id}`);
    expect(refused).toMatchObject({
      status: 409,
      body: { code: "JOB_CONFLICT", conflictingJobId: cleanup.id },
    });
    await call("PUT", `/_reshard/jobs/${cleanup.id}/state`, { state: "stopped" });
    expect(await call("DELETE", `/_reshard/jobs/${cleanup.id}`)).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    expect((await call("GET", `/_reshard/jobs/${cleanup.id}`)).status).toBe(404);
    startManager();

    const finished = (await control.store().then((s) => s.all())).find(
      (j) => j.type === "allocate" && j.state === "completed",
    ) as { id: number };
    const deleted = await call("DELETE", `/_reshard/jobs/${finished.id}`);
    expect(deleted.body).toEqual({ ok: true });
    expect((await call("GET", "/_reshard")).body.total).toBe(total - 1);
    expect(await replicationLeftovers(fx.local)).toEqual([]);
  });
});

describe("metrics, status and the OpenAPI document", () => {
  it("/metrics reports jobs, moves, bytes copied, write blocks, imbalance and leadership", async () => {
    await until(
      async () =>
        manager?.isLeader && (await control.globalState()).measurement ? true : undefined,
      "a leader's measurement",
    );
    const reply = await call("GET", "/metrics");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = reply.body as string;
    const value = (line: string) => {
      const found = text.split("\n").find((l) => l.startsWith(`${line} `));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    };
    const store = await control.store();
    const completedMoves = (await store.all()).filter(
      (j) => j.type === "move" && j.state === "completed",
    );
    expect(value('archipelago_jobs{type="move",state="completed"}')).toBe(completedMoves.length);
    expect(value('archipelago_moves_total{outcome="completed"}')).toBeGreaterThanOrEqual(3);
    // Sampled from the copy's progress (pg_stat_progress_copy): these small copies may finish unseen.
    expect(value("archipelago_move_copied_bytes_total")).toBeGreaterThanOrEqual(0);
    expect(value("archipelago_move_write_block_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(value("archipelago_imbalance_ratio")).toBeGreaterThanOrEqual(1);
    expect(value("archipelago_manager_leader")).toBe(1);
    expect(value("archipelago_global_running")).toBe(1);
    expect(value("archipelago_client_discoveries_total")).toBeGreaterThanOrEqual(0);
    expect(text).toContain('archipelago_island_active_bytes{island="2"}');
  });

  it("/_ops/status shows islands with nodes and roles, microshards with sizes, recent moves", async () => {
    const status = (await call("GET", "/_ops/status")).body;
    expect(OpsStatusResponse.safeParse(status).error).toBeUndefined();
    expect(status.islands.map((i: { island: number }) => i.island)).toEqual([1, 2]);
    expect(status.islands[0].nodes[0]).toMatchObject({ role: "master" });
    expect(status.islands[0]).toMatchObject({ global: true });
    const sizes = status.islands.flatMap(
      (i: { microshards: { bytes: number }[] }) => i.microshards,
    );
    expect(sizes.every((m: { bytes: number }) => m.bytes > 0)).toBe(true);
    expect(status.recent_moves.length).toBeGreaterThanOrEqual(3);
    expect(status.recent_moves[0]).toMatchObject({
      job_state: "completed",
      write_block_ms: expect.any(Number),
    });
    expect(status.imbalance).toEqual(expect.any(Number));
  });

  it("the OpenAPI document covers every route and its schemas", async () => {
    const doc = (await call("GET", "/_reshard/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/",
        "/_ops/status",
        "/_reshard",
        "/_reshard/jobs",
        "/_reshard/jobs/{id}",
        "/_reshard/jobs/{id}/state",
        "/_reshard/openapi.json",
        "/_reshard/state",
        "/metrics",
        "/ops-page.css",
        "/ops-page.js",
      ].sort(),
    );
    const post = doc.paths["/_reshard/jobs"].post;
    const ref = post.requestBody.content["application/json"].schema.$ref as string;
    expect(ref).toBe("#/components/schemas/CreateJobBody");
    const variants = doc.components.schemas.CreateJobBody.oneOf;
    // Every reference points at a component that exists.
    for (const [, name] of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas[name as string], name).toBeDefined();
    }
    expect(
      variants.map((v: { properties: { type: { const: string } } }) => v.properties.type.const),
    ).toEqual(["move", "rebalance", "drain", "allocate", "cleanup"]);
    expect(Object.keys(post.responses).sort()).toEqual(["201", "400", "401", "409"]);
    expect(doc.paths["/_reshard/jobs/{id}"].get.parameters[0]).toMatchObject({
      name: "id",
      in: "path",
    });
    expect(doc.paths["/"].get.security).toEqual([]);
  });
});
