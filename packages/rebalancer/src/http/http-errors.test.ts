import pg from "pg";
import { expect, it } from "vitest";
import { z } from "zod";
import { JobConflictError, JobNotFoundError, JobRequestError } from "../jobs/job-errors.js";
import { MoveRefusedError } from "../move/move-errors.js";
import { answerForError, answerForIssues } from "./http-errors.js";

it("maps our errors by code, with their fields", () => {
  expect(answerForError(new JobNotFoundError(7))).toEqual({
    status: 404,
    body: {
      error: "not_found",
      reason: expect.stringContaining("job 7"),
      code: "JOB_NOT_FOUND",
      jobId: 7,
    },
  });
  expect(answerForError(new MoveRefusedError(3, "the target island is draining"))).toMatchObject({
    status: 409,
    body: {
      error: "conflict",
      code: "MOVE_REFUSED",
      microshard: 3,
      reason: "Cannot move microshard 3: the target island is draining",
      detail: "the target island is draining",
    },
  });
  expect(answerForError(new JobConflictError("busy", 4)).body).toMatchObject({
    conflictingJobId: 4,
  });
  expect(answerForError(new JobRequestError("bad island")).status).toBe(400);
});

it("passes fastify's own 4xx through and hides other errors' messages", () => {
  const tooLarge = Object.assign(new Error("Request body is too large"), {
    statusCode: 413,
    code: "FST_ERR_CTP_BODY_TOO_LARGE",
  });
  expect(answerForError(tooLarge)).toMatchObject({
    status: 413,
    body: { error: "payload_too_large" },
  });
  const leaky = new Error("connect to postgres://admin:hunter2@db failed");
  const answer = answerForError(leaky);
  expect(answer.status).toBe(500);
  expect(JSON.stringify(answer)).not.toContain("hunter2");
  // An island that does not answer is a 503 (try again), not the server's fault.
  const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), {
    code: "ECONNREFUSED",
  });
  expect(answerForError(refused)).toMatchObject({
    status: 503,
    body: { error: "service_unavailable", code: "ECONNREFUSED" },
  });
  expect(JSON.stringify(answerForError(refused))).not.toContain("10.0.0.1");
  const shutdown = new pg.DatabaseError(
    "terminating connection due to administrator command",
    0,
    "error",
  );
  shutdown.code = "57P01";
  expect(answerForError(shutdown)).toMatchObject({ status: 503, body: { sqlstate: "57P01" } });
  const syntax = new pg.DatabaseError("syntax error", 0, "error");
  syntax.code = "42601";
  expect(answerForError(syntax)).toMatchObject({ status: 500, body: { code: "DATABASE_ERROR" } });
  // A statusCode alone (not fastify's) does not make an error the client's fault.
  expect(answerForError(Object.assign(new Error("x"), { statusCode: 400 })).status).toBe(500);
});

it("names every invalid field, unknown keys one by one", () => {
  const schema = z.object({ a: z.number(), b: z.object({ c: z.string() }) }).strict();
  const result = schema.safeParse({ a: "1", b: { c: 2 }, x: 1, y: 2 });
  const answer = answerForIssues("body", result.error?.issues ?? []);
  expect(answer.status).toBe(400);
  expect(answer.body.issues?.map((i) => i.field)).toEqual(["a", "b.c", "x", "y"]);
  expect(answer.body.reason).toMatch(/^invalid request body: a: /);
  const root = answerForIssues("body", z.object({}).safeParse(null).error?.issues ?? []);
  expect(root.body.issues).toEqual([{ field: "(root)", message: expect.any(String) }]);
});
