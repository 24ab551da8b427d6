/**
 * The `/_reshard` endpoints, in the shape of CouchDB's (see docs/http-api.md), over JobControl: every
 * request is one JobControl call, so the HTTP API, the CLI and an embedding app share one set of
 * checks and one transactional store. Any manager instance can serve them: the global state and the
 * jobs live in the control catalog, which every instance reads.
 */
import type { JobControl, ParentCreated } from "../jobs/job-control.js";
import type { JobRecord } from "../jobs/job-store.js";
import {
  CreateJobBody,
  CreateJobResponse,
  ErrorResponse,
  GlobalStateBody,
  JobIdParams,
  JobJson,
  JobStateBody,
  JobStateResponse,
  JobsQuery,
  JobsResponse,
  Ok,
  StateResponse,
  SummaryResponse,
} from "./http-schemas.js";
import { createdJobJson, jobJson } from "./job-json.js";
import { json, type RouteSpec, route } from "./route-spec.js";

const BY_HTTP = "(HTTP API)";
const bad = { 400: ErrorResponse };
const missing = { 404: ErrorResponse };
const conflict = { 409: ErrorResponse };

export function reshardRoutes(control: JobControl): RouteSpec[] {
  return [
    route({
      method: "GET",
      path: "/_reshard",
      summary: "Summary: jobs by state, the global state and its reason",
      responses: { 200: SummaryResponse },
      handler: async () => {
        const summary = await control.summary();
        return json({
          state: summary.state,
          state_reason: summary.stateReason,
          ...summary.counts,
        });
      },
    }),
    route({
      method: "GET",
      path: "/_reshard/state",
      summary: "The global switch",
      responses: { 200: StateResponse },
      handler: async () => {
        const global = await control.globalState();
        return json({ state: global.state, reason: global.reason });
      },
    }),
    route({
      method: "PUT",
      path: "/_reshard/state",
      summary:
        "Turn the global switch: stopped stops new and running jobs; running restarts the ones it stopped",
      body: GlobalStateBody,
      responses: { 200: Ok, ...bad },
      handler: async ({ body }) => {
        await control.setGlobalState(
          body.state,
          body.reason ?? `${body.state === "running" ? "started" : "stopped"} ${BY_HTTP}`,
        );
        return json({ ok: true });
      },
    }),
    route({
      method: "GET",
      path: "/_reshard/jobs",
      summary:
        "Jobs, oldest first, with their history; paginated by offset and limit, optionally only one state or type",
      query: JobsQuery,
      responses: { 200: JobsResponse, ...bad },
      handler: async ({ query }) => {
        const store = await control.store();
        const { offset, limit, state, type } = query;
        let page: JobRecord[];
        let total: number;
        if (state === undefined && type === undefined) {
          [page, total] = await Promise.all([store.list({ offset, limit }), store.count()]);
        } else {
          // Filtered in memory, as `archipelago jobs list --state` does: job tables stay small.
          const matching = (await store.all()).filter(
            (j) =>
              (state === undefined || j.state === state) && (type === undefined || j.type === type),
          );
          [page, total] = [matching.slice(offset, offset + limit), matching.length];
        }
        return json({ jobs: page.map(jobJson), offset, limit, total_rows: total });
      },
    }),
    route({
      method: "POST",
      path: "/_reshard/jobs",
      summary:
        "Create a job: move, rebalance, drain, allocate or cleanup. A rebalance or drain is planned at once and answered with its moves",
      body: CreateJobBody,
      responses: { 201: CreateJobResponse, ...bad, ...conflict },
      handler: async ({ body }) => json(createdList(await createJob(control, body)), 201),
    }),
    route({
      method: "GET",
      path: "/_reshard/jobs/:id",
      summary: "One job",
      params: JobIdParams,
      responses: { 200: JobJson, ...bad, ...missing },
      handler: async ({ params }) => json(jobJson(await control.get(params.id))),
    }),
    route({
      method: "DELETE",
      path: "/_reshard/jobs/:id",
      summary:
        "Delete a job that is not running and left nothing to clean up (a parent with its moves)",
      params: JobIdParams,
      responses: { 200: Ok, ...bad, ...missing, ...conflict },
      handler: async ({ params }) => {
        await control.delete(params.id);
        return json({ ok: true });
      },
    }),
    route({
      method: "GET",
      path: "/_reshard/jobs/:id/state",
      summary: "One job's state and its reason",
      params: JobIdParams,
      responses: { 200: StateResponse, ...bad, ...missing },
      handler: async ({ params }) => {
        const job = await control.get(params.id);
        return json({ state: job.state, reason: job.stateReason });
      },
    }),
    route({
      method: "PUT",
      path: "/_reshard/jobs/:id/state",
      summary:
        "Stop or resume one job (and a rebalance's or drain's moves). Completed jobs ignore both; a stopped job stays stopped across the global switch",
      params: JobIdParams,
      body: JobStateBody,
      responses: { 200: JobStateResponse, ...bad, ...missing },
      handler: async ({ params, body }) => {
        const job =
          body.state === "stopped"
            ? await control.stop(params.id, body.reason ?? `stopped ${BY_HTTP}`)
            : await control.resume(params.id, body.reason ?? `resumed ${BY_HTTP}`);
        return json({ ok: true, state: job.state, reason: job.stateReason });
      },
    }),
  ];
}

async function createJob(
  control: JobControl,
  body: CreateJobBody,
): Promise<JobRecord | ParentCreated> {
  switch (body.type) {
    case "move":
      return control.createMove(body.microshard, body.island);
    case "rebalance":
      return control.createRebalance({
        ...(body.threshold === undefined ? {} : { threshold: body.threshold }),
        ...(body.max_moves === undefined ? {} : { maxMoves: body.max_moves }),
      });
    case "drain":
      return control.createDrain(body.island, body.reason ?? `drained ${BY_HTTP}`);
    case "allocate":
      return control.createAllocate(body.count);
    case "cleanup":
      return control.createCleanup(body.job);
  }
}

function createdList(created: JobRecord | ParentCreated) {
  return "children" in created
    ? [created.job, ...created.children].map(createdJobJson)
    : [createdJobJson(created)];
}
