/**
 * Which HTTP status each error gets, as a table keyed by the stable error code (never by message
 * text), and the JSON body every error answer carries: CouchDB's `{ "error", "reason" }` plus our
 * `code` and the error's own fields. Pure.
 *
 * Anything not in the table is the server's fault or an island's (500 or 503): its message is shown
 * only when it is one of ours (written never to hold a secret) or PostgreSQL's own; any other error is
 * answered with a generic reason, because a library's message may quote a connection string.
 */
import { ArchipelagoError } from "@archipelago/topology";
import pg from "pg";
import type { z } from "zod";
import type { ErrorResponse } from "./http-schemas.js";

/** Error code → HTTP status. */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  // The request names something that does not exist or cannot be done as asked: nothing changed.
  JOB_REQUEST: 400,
  INVALID_MICROSHARD: 400,
  INVALID_PLAN_INPUT: 400,
  JOB_NOT_FOUND: 404,
  // Valid, but the cluster or another live job says no: a live move of that microshard, a draining
  // target, a running job to delete, a second rebalance.
  JOB_CONFLICT: 409,
  MOVE_REFUSED: 409,
  MOVE_STATE: 409,
  CLEANUP_REFUSED: 409,
  MIGRATION_LOCK_BUSY: 409,
  // An island's master did not answer: retry later.
  NO_MASTER: 503,
};

/**
 * PostgreSQL telling us it cannot serve now: connection exceptions (class 08), shutting down or
 * starting up (57P01–57P03), read-only because it is a replica after a failover (25006).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|25006)$/;
/** Network errors reaching an island: the request may succeed once it answers again. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The `error` word of each status, as CouchDB spells them. */
export const STATUS_ERROR: Readonly<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  500: "internal_server_error",
  503: "service_unavailable",
};

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorResponse;
}

export function errorAnswer(status: number, reason: string, extra: object = {}): ErrorAnswer {
  return { status, body: { error: STATUS_ERROR[status] ?? "error", reason, ...extra } };
}

/** The answer for an error thrown while handling a request. */
export function answerForError(error: unknown): ErrorAnswer {
  if (error instanceof ArchipelagoError) {
    // The message is the reason; an error's own `reason` field (part of its message) becomes `detail`.
    const { code, name: _name, message, reason, error: _error, ...details } = error.toJSON();
    return errorAnswer(ERROR_STATUS[error.code] ?? 500, String(message), {
      code,
      ...details,
      ...(reason === undefined ? {} : { detail: reason }),
    });
  }
  if (error instanceof pg.DatabaseError) {
    const status = UNAVAILABLE_SQLSTATE.test(error.code ?? "") ? 503 : 500;
    return errorAnswer(status, error.message, { code: "DATABASE_ERROR", sqlstate: error.code });
  }
  // Fastify's own request errors (malformed JSON, body too large, wrong media type) carry a 4xx.
  const fastify = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (
    typeof fastify.statusCode === "number" &&
    fastify.statusCode >= 400 &&
    fastify.statusCode < 500 &&
    typeof fastify.code === "string" &&
    fastify.code.startsWith("FST_")
  ) {
    return errorAnswer(fastify.statusCode, String(fastify.message), { code: fastify.code });
  }
  const system = (error as { code?: unknown }).code;
  if (typeof system === "string" && UNREACHABLE.has(system)) {
    return errorAnswer(503, `the control island did not answer (${system}); try again`, {
      code: system,
    });
  }
  return errorAnswer(500, "internal error (see the manager's output)", {
    code: typeof system === "string" && /^E[A-Z]+$/.test(system) ? system : "ERROR",
  });
}

/** A 400 naming every field that failed validation (`where` says which part of the request). */
export function answerForIssues(
  where: "body" | "query" | "path",
  issues: readonly z.core.$ZodIssue[],
): ErrorAnswer {
  const fields = issues.flatMap((issue) => {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: base ? `${base}.${key}` : key,
        message: "unknown field",
      }));
    }
    return [{ field: base || "(root)", message: issue.message }];
  });
  return errorAnswer(
    400,
    `invalid request ${where}: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
    { code: "INVALID_REQUEST", issues: fields },
  );
}
