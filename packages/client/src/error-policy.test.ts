import fc from "fast-check";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  classifyError,
  ERROR_POLICY,
  type ErrorRule,
  type ErrorVerdict,
  type QueryPhase,
} from "./error-policy.js";

/** A server error response as node-postgres builds it (pg-protocol's parser sets the fields). */
function dbError(code: string, message = "some server message"): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length + 20, "error");
  error.severity = "ERROR";
  error.code = code;
  return error;
}

/** A socket or DNS failure as Node.js builds it. */
function systemError(code: string, syscall = "connect"): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code} 127.0.0.1:5432`), {
    code,
    errno: -1,
    syscall,
    address: "127.0.0.1",
    port: 5432,
  });
}

const verdict = (
  kind: string,
  action: ErrorVerdict["action"],
  applied: ErrorVerdict["applied"],
  nodeDown: boolean,
  sqlstate?: string,
): ErrorVerdict => ({ kind, action, applied, nodeDown, sqlstate });

describe("classifyError, row by row", () => {
  const cases: [string, unknown, QueryPhase, ErrorVerdict][] = [
    // The blip: a move renamed the schema.
    [
      "42P01 relation does not exist",
      dbError("42P01", 'relation "sh0042.users" does not exist'),
      "query",
      verdict("undefined-table", "rediscover-map", "not-applied", false, "42P01"),
    ],
    [
      "3F000 schema does not exist",
      dbError("3F000", 'schema "sh0042" does not exist'),
      "query",
      verdict("invalid-schema", "rediscover-map", "not-applied", false, "3F000"),
    ],
    // Failover: a demoted master.
    [
      "25006 read-only transaction",
      dbError("25006", "cannot execute INSERT in a read-only transaction"),
      "query",
      verdict("read-only", "rediscover-roles", "not-applied", false, "25006"),
    ],
    // Connecting to a dead or starting node.
    ...(["ECONNREFUSED", "EHOSTUNREACH", "ENOTFOUND"].map(
      (code) =>
        [
          `connect ${code}`,
          systemError(code),
          "connect",
          verdict("connection-refused", "rediscover-roles", "not-applied", true),
        ] as [string, unknown, QueryPhase, ErrorVerdict],
    ) as [string, unknown, QueryPhase, ErrorVerdict][]),
    ...(["ETIMEDOUT", "ECONNRESET", "EPIPE"].map(
      (code) =>
        [
          `connect ${code}`,
          systemError(code),
          "connect",
          verdict("connection-setup-failed", "rediscover-roles", "not-applied", true),
        ] as [string, unknown, QueryPhase, ErrorVerdict],
    ) as [string, unknown, QueryPhase, ErrorVerdict][]),
    ...(["57P03", "08001", "08004"].map((code) => [
      `connect ${code}`,
      dbError(code),
      "connect",
      verdict("connection-refused", "rediscover-roles", "not-applied", true, code),
    ]) as [string, unknown, QueryPhase, ErrorVerdict][]),
    ...(["08006", "57P01", "57P02"].map((code) => [
      `connect ${code}`,
      dbError(code),
      "connect",
      verdict("connection-setup-failed", "rediscover-roles", "not-applied", true, code),
    ]) as [string, unknown, QueryPhase, ErrorVerdict][]),
    [
      "connect: node-postgres connection timeout",
      new Error("Connection terminated due to connection timeout"),
      "connect",
      verdict("connection-setup-failed", "rediscover-roles", "not-applied", true),
    ],
    [
      "connect: pg-pool checkout timeout",
      new Error("timeout exceeded when trying to connect"),
      "connect",
      verdict("connection-setup-failed", "rediscover-roles", "not-applied", true),
    ],
    // Refusals prove nothing ran even when the caller reports the query phase (pool.query()).
    [
      "query ECONNREFUSED",
      systemError("ECONNREFUSED"),
      "query",
      verdict("connection-refused", "rediscover-roles", "not-applied", true),
    ],
    [
      "query 57P03 the database system is starting up",
      dbError("57P03", "the database system is starting up"),
      "query",
      verdict("connection-refused", "rediscover-roles", "not-applied", true, "57P03"),
    ],
    [
      "53300 too many connections",
      dbError("53300", "sorry, too many clients already"),
      "connect",
      verdict("too-many-connections", "retry", "not-applied", false, "53300"),
    ],
    // The session died after the statement was sent.
    ...(["57P01", "57P02", "08006", "08003", "08007"].map((code) => [
      `query ${code}`,
      dbError(code, "terminating connection due to administrator command"),
      "query",
      verdict("connection-lost", "rediscover-roles", "unknown", true, code),
    ]) as [string, unknown, QueryPhase, ErrorVerdict][]),
    ...(["ECONNRESET", "EPIPE", "ETIMEDOUT"].map((code) => [
      `query ${code}`,
      systemError(code, code === "EPIPE" ? "write" : "read"),
      "query",
      verdict("connection-lost", "rediscover-roles", "unknown", true),
    ]) as [string, unknown, QueryPhase, ErrorVerdict][]),
    [
      "query: Connection terminated unexpectedly",
      new Error("Connection terminated unexpectedly"),
      "query",
      verdict("connection-lost", "rediscover-roles", "unknown", true),
    ],
    [
      "query: Connection terminated",
      new Error("Connection terminated"),
      "query",
      verdict("connection-lost", "rediscover-roles", "unknown", true),
    ],
    [
      "query: Query read timeout",
      new Error("Query read timeout"),
      "query",
      verdict("connection-lost", "rediscover-roles", "unknown", true),
    ],
    // Rolled back by the server.
    [
      "40001 serialization failure",
      dbError("40001", "could not serialize access due to concurrent update"),
      "query",
      verdict("serialization-failure", "retry", "not-applied", false, "40001"),
    ],
    [
      "40P01 deadlock",
      dbError("40P01", "deadlock detected"),
      "query",
      verdict("deadlock", "retry", "not-applied", false, "40P01"),
    ],
    [
      "55P03 lock timeout",
      dbError("55P03", "canceling statement due to lock timeout"),
      "query",
      verdict("lock-not-available", "retry", "not-applied", false, "55P03"),
    ],
    [
      "57014 statement timeout",
      dbError("57014", "canceling statement due to statement timeout"),
      "query",
      verdict("query-canceled", "fail", "not-applied", false, "57014"),
    ],
    [
      "40003 statement completion unknown",
      dbError("40003"),
      "query",
      verdict("completion-unknown", "fail", "unknown", false, "40003"),
    ],
    // The caller's.
    ...(["23505", "23503", "42601", "28P01", "22P02", "42501", "XX000"].map((code) => [
      `other ${code}`,
      dbError(code),
      "query",
      verdict("other", "fail", "not-applied", false, code),
    ]) as [string, unknown, QueryPhase, ErrorVerdict][]),
    [
      "28P01 during connect",
      dbError("28P01", 'password authentication failed for user "app"'),
      "connect",
      verdict("other", "fail", "not-applied", false, "28P01"),
    ],
  ];

  it.each(cases)("%s", (_name, error, phase, expected) => {
    expect(classifyError(error, phase)).toEqual(expected);
  });
});

describe("classifyError on inputs that are not driver errors", () => {
  const other = verdict("other", "fail", "not-applied", false);

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "Connection terminated unexpectedly"],
    ["a number", 57],
    ["a plain object", { message: "Connection terminated" }],
    ["an array", ["ECONNRESET"]],
    [
      "a TypeError (a bug, e.g. in parameter serialization)",
      new TypeError("Do not know how to serialize a BigInt"),
    ],
    ["a RangeError", new RangeError("Invalid array length")],
    ["a Node internal error code", Object.assign(new Error("x"), { code: "ERR_INVALID_ARG_TYPE" })],
    ["a numeric code", Object.assign(new Error("x"), { code: 42 })],
    ["a DatabaseError without a code", new pg.DatabaseError("x", 1, "error")],
  ])("fails %s without retry, in both phases", (_name, input) => {
    expect(classifyError(input, "query")).toEqual(other);
    expect(classifyError(input, "connect")).toEqual(other);
  });

  it("reads the code of a plain object or wrapper, by code only", () => {
    expect(classifyError({ code: "42P01" }, "query")).toMatchObject({
      kind: "undefined-table",
      sqlstate: "42P01",
    });
    expect(classifyError({ code: "ECONNRESET" }, "query")).toMatchObject({
      kind: "connection-lost",
      sqlstate: undefined,
    });
    expect(classifyError({ code: "EPIPE" }, "connect")).toMatchObject({
      kind: "connection-setup-failed",
      sqlstate: undefined,
    });
  });

  it("never looks at message text", () => {
    const error = dbError(
      "23505",
      'relation "x" does not exist; Connection terminated unexpectedly',
    );
    expect(classifyError(error, "query").kind).toBe("other");
    const refused = systemError("ECONNREFUSED");
    refused.message = "duplicate key value violates unique constraint";
    expect(classifyError(refused, "connect").kind).toBe("connection-refused");
  });

  it("treats a server error's code as a SQLSTATE even when it looks like a system code", () => {
    const raised = Object.assign(new Error("raised by a trigger"), {
      code: "EPIPE",
      severity: "ERROR",
    });
    expect(classifyError(raised, "query")).toEqual(
      verdict("other", "fail", "not-applied", false, "EPIPE"),
    );
  });

  it("recognises a server error from another copy of pg-protocol by its severity", () => {
    const foreign = Object.assign(new Error("relation does not exist"), {
      name: "error",
      severity: "ERROR",
      code: "42P01",
    });
    expect(classifyError(foreign, "query").kind).toBe("undefined-table");
  });

  it("survives hostile objects and does not modify the error", () => {
    const hostile = Object.defineProperty({}, "code", {
      get() {
        throw new Error("boom");
      },
    });
    expect(classifyError(hostile, "query").kind).toBe("other");
    const error = Object.freeze(dbError("42P01"));
    expect(classifyError(error, "query").kind).toBe("undefined-table");
  });

  it("returns a verdict for any value, and `unknown` only after the statement was sent", () => {
    const anything = fc.oneof(
      fc.anything(),
      fc.constantFrom(...ERROR_POLICY.flatMap((r) => r.match.sqlstates ?? [])).map(dbError),
      fc
        .constantFrom(...ERROR_POLICY.flatMap((r) => r.match.systemCodes ?? []))
        .map((c) => systemError(c)),
      fc.string().map((m) => new Error(m)),
    );
    fc.assert(
      fc.property(anything, fc.constantFrom<QueryPhase>("connect", "query"), (error, phase) => {
        const v = classifyError(error, phase);
        expect(ERROR_POLICY.map((r) => r.kind)).toContain(v.kind);
        if (phase === "connect") expect(v.applied).toBe("not-applied");
        if (v.applied === "unknown") expect(v.action === "fail" || v.nodeDown).toBe(true);
      }),
    );
  });
});

describe("ERROR_POLICY", () => {
  it("is frozen data", () => {
    expect(Object.isFrozen(ERROR_POLICY)).toBe(true);
    for (const rule of ERROR_POLICY) {
      expect(Object.isFrozen(rule)).toBe(true);
      expect(Object.isFrozen(rule.match)).toBe(true);
      expect(rule.note.length).toBeGreaterThan(10);
    }
  });

  it("ends with a catch-all that fails", () => {
    const last = ERROR_POLICY.at(-1) as ErrorRule;
    expect(last).toMatchObject({ kind: "other", match: { anything: true }, action: "fail" });
    expect(ERROR_POLICY.slice(0, -1).some((r) => r.match.anything)).toBe(false);
  });

  it("reaches every row: each listed code classifies to its own row", () => {
    for (const rule of ERROR_POLICY) {
      const phases: QueryPhase[] = rule.phase === "any" ? ["connect", "query"] : [rule.phase];
      const errors = [
        ...(rule.match.sqlstates ?? []).map((c) => dbError(c)),
        ...(rule.match.systemCodes ?? []).map((c) => systemError(c)),
        ...(rule.match.driverError ? [new Error("Connection terminated unexpectedly")] : []),
      ];
      for (const phase of phases) {
        for (const error of errors) {
          const v = classifyError(error, phase);
          expect({ rule: rule.kind, ...v }).toMatchObject({
            kind: rule.kind,
            action: rule.action,
            applied: rule.applied,
            nodeDown: rule.nodeDown,
          });
        }
      }
    }
  });

  it("lists every SQLSTATE and system code in one row per phase", () => {
    for (const phase of ["connect", "query"] as const) {
      const rows = ERROR_POLICY.filter((r) => r.phase === "any" || r.phase === phase);
      const codes = rows.flatMap((r) => [
        ...(r.match.sqlstates ?? []),
        ...(r.match.systemCodes ?? []),
      ]);
      expect(new Set(codes).size).toBe(codes.length);
    }
  });

  it("uses well-formed codes", () => {
    for (const rule of ERROR_POLICY) {
      for (const code of rule.match.sqlstates ?? []) expect(code).toMatch(/^[0-9A-Z]{5}$/);
      for (const code of rule.match.systemCodes ?? []) expect(code).toMatch(/^E[A-Z_]+$/);
    }
  });
});
