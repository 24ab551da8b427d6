import { ArchipelagoError } from "@archipelago/topology";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  CrossMicroshardError,
  InvalidLsnError,
  InvalidSessionError,
  IslandUnavailableError,
  MicroshardConflictError,
  MicroshardNotFoundError,
  OutcomeUnknownError,
  RetryDeadlineExceededError,
} from "./client-errors.js";

/** A server error whose message and detail quote row data, as a unique violation does. */
function uniqueViolation(): pg.DatabaseError {
  const error = new pg.DatabaseError(
    'duplicate key value violates unique constraint "users_email_key"',
    120,
    "error",
  );
  error.severity = "ERROR";
  error.code = "23505";
  error.detail = "Key (email)=(alice@example.com) already exists.";
  return error;
}

function lostConnection(): Error {
  return Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
}

describe("client errors", () => {
  const cases: [ArchipelagoError, string, Record<string, unknown>][] = [
    [new MicroshardNotFoundError(42), "MICROSHARD_NOT_FOUND", { microshard: 42 }],
    [
      new OutcomeUnknownError({
        island: 2,
        node: "db2:5432",
        microshards: [42, 43],
        cause: lostConnection(),
      }),
      "OUTCOME_UNKNOWN",
      {
        island: 2,
        node: "db2:5432",
        microshards: [42, 43],
        cause: { name: "Error", code: "ECONNRESET" },
      },
    ],
    [
      new RetryDeadlineExceededError({
        deadlineMs: 10_000,
        attempts: 14,
        lastError: uniqueViolation(),
        microshards: [42],
        island: 1,
      }),
      "RETRY_DEADLINE_EXCEEDED",
      {
        deadlineMs: 10_000,
        attempts: 14,
        microshards: [42],
        island: 1,
        lastError: { name: "error", code: "23505" },
      },
    ],
    [
      new IslandUnavailableError({ island: 3, reason: "no master answered" }),
      "ISLAND_UNAVAILABLE",
      { island: 3, reason: "no master answered" },
    ],
    [
      new CrossMicroshardError({ expected: 42, actual: 7 }),
      "CROSS_MICROSHARD",
      { expected: 42, actual: 7 },
    ],
    [
      new MicroshardConflictError({ microshard: 42, islands: [1, 2] }),
      "MICROSHARD_CONFLICT",
      { microshard: 42, islands: [1, 2] },
    ],
    [new InvalidSessionError("not base64url"), "INVALID_SESSION", { reason: "not base64url" }],
    [new InvalidLsnError("x/y", "bad"), "INVALID_LSN", { input: "x/y", reason: "bad" }],
  ];

  it.each(cases.map(([error, code, details]) => [code, error, details] as const))(
    "%s has a stable code, a name, typed fields and JSON details",
    (code, error, details) => {
      expect(error).toBeInstanceOf(ArchipelagoError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
      expect(error.stack).toContain(error.name);
      const json = JSON.parse(JSON.stringify(error));
      expect(json).toEqual({ code, name: error.name, message: error.message, ...details });
    },
  );

  it("MicroshardNotFoundError tells the caller what to check and that no more retries were made", () => {
    const { message } = new MicroshardNotFoundError(42);
    expect(message).toContain("42");
    expect(message).toMatch(/no island holds it/);
    expect(message).toMatch(/check the ID/i);
    expect(message).toMatch(/one rediscovery/i);
  });

  it("OutcomeUnknownError keeps the cause untouched and says what to do", () => {
    const cause = lostConnection();
    const before = { ...cause, message: cause.message, stack: cause.stack };
    const error = new OutcomeUnknownError({
      island: 2,
      node: "db2:5432",
      microshards: [42],
      cause,
    });
    expect(error.cause).toBe(cause);
    expect({ ...cause, message: cause.message, stack: cause.stack }).toEqual(before);
    expect(error.message).toMatch(/may or may not have been applied/);
    expect(error.message).toMatch(/idempotent/);
  });

  it("never puts row data from an underlying error into a message or JSON", () => {
    const cause = uniqueViolation();
    const errors = [
      new OutcomeUnknownError({ island: 1, node: "n", microshards: [1], cause }),
      new RetryDeadlineExceededError({ deadlineMs: 1, attempts: 1, lastError: cause }),
    ];
    for (const error of errors) {
      const text = `${error.message} ${JSON.stringify(error)}`;
      expect(text).not.toContain("alice@example.com");
      expect(text).not.toContain("users_email_key");
      expect(text).toContain("23505");
      expect(error.cause).toBe(cause);
    }
  });

  it("copies and freezes the arrays it is given", () => {
    const microshards = [1, 2];
    const error = new MicroshardConflictError({ microshard: 1, islands: microshards });
    microshards.push(3);
    expect(error.islands).toEqual([1, 2]);
    expect(Object.isFrozen(error.islands)).toBe(true);
  });

  it("summarizes any thrown value, and long lists, without failing", () => {
    for (const lastError of [undefined, null, "text", 5, { code: 7 }, Object.create(null)]) {
      const error = new RetryDeadlineExceededError({ deadlineMs: 100, attempts: 2, lastError });
      expect(() => JSON.stringify(error)).not.toThrow();
      expect(error.message).toMatch(/2 attempt/);
    }
    const many = Array.from({ length: 50 }, (_, i) => i + 1);
    const error = new OutcomeUnknownError({
      island: 1,
      node: "n",
      microshards: many,
      cause: undefined,
    });
    expect(error.message).toContain("(50 in all)");
    expect(error.microshards).toHaveLength(50);
  });
});
