/**
 * The error → recovery table: what the client does when a statement fails.
 *
 * The problem: a failed statement is either safe to retry (it provably did not run: the session never
 * opened, the server rolled the transaction back, the schema was not there) or it may have run (the
 * connection died after the statement was sent, and a COMMIT can land just before the socket is cut).
 * Retrying the first kind is how the client rides through a move's switch and a failover; retrying the
 * second kind can apply a write twice, so it is only allowed for writes the caller marked idempotent.
 *
 * The mechanism: one table, one row per failure, read top to bottom; the first row that matches wins.
 * Each row says what to do (`rediscover-map`, `rediscover-roles`, `retry`, `fail`), whether the
 * statement may have been applied, and whether the node should be skipped until it answers again.
 * `classifyError` walks the table and returns a plain verdict; the retry loop switches on it.
 *
 * Errors are told apart by code only: the SQLSTATE of a PostgreSQL error response (`DatabaseError.code`),
 * or the Node.js system code of a socket or DNS failure (`ECONNREFUSED`, …). Matching message text was
 * rejected: it breaks the day node-postgres or PostgreSQL rewords a string, and it differs by locale
 * (`lc_messages`). The one error without a code is node-postgres's own: a plain `Error` for
 * "Connection terminated unexpectedly" and connect/read timeouts; the table matches it by being a plain
 * `Error` with no code (`driverError`), which is also what an unforeseen driver failure looks like.
 *
 * The phase matters because the same failure means different things before and after the statement is
 * sent: a reset during connection setup proves nothing ran; a reset during the query does not.
 */
import pg from "pg";

/** `connect`: before the statement was sent (pool checkout, connection setup); `query`: after. */
export type QueryPhase = "connect" | "query";

/**
 * - `rediscover-map`: the microshard is not where the map said; rediscover placements, then retry.
 * - `rediscover-roles`: the node is not (or no longer) what we thought (down, demoted); re-probe the
 *   island's roles, then retry on the new master if the statement was not applied.
 * - `retry`: try again as is, after a backoff.
 * - `fail`: give the error to the caller.
 */
export type ErrorAction = "rediscover-map" | "rediscover-roles" | "retry" | "fail";

/** `unknown` only when the statement may have been applied; a retry is then safe only if idempotent. */
export type AppliedState = "not-applied" | "unknown";

export interface ErrorVerdict {
  /** The matching rule's name, e.g. `undefined-table`, `read-only`, `connection-lost`. */
  readonly kind: string;
  readonly action: ErrorAction;
  readonly applied: AppliedState;
  /** The node should be marked down (skipped until it answers again). */
  readonly nodeDown: boolean;
  /** The PostgreSQL error code, when the error came from a server's error response. */
  readonly sqlstate: string | undefined;
}

/** What a rule matches; a rule matches when any listed condition holds. Plain data, no functions. */
export interface ErrorMatch {
  /** SQLSTATE codes (five characters) of a PostgreSQL error response. */
  readonly sqlstates?: readonly string[];
  /** Node.js system error codes of a socket or DNS failure. */
  readonly systemCodes?: readonly string[];
  /** A plain `Error` with no code: node-postgres's "Connection terminated", connect/read timeouts. */
  readonly driverError?: boolean;
  /** Anything at all (the last row). */
  readonly anything?: boolean;
}

export interface ErrorRule {
  readonly kind: string;
  readonly match: ErrorMatch;
  readonly phase: QueryPhase | "any";
  readonly action: ErrorAction;
  readonly applied: AppliedState;
  readonly nodeDown: boolean;
  /** Why the row exists, in one line. */
  readonly note: string;
}

/** Failures that prove no session was established, whatever phase the caller was in. */
const REFUSED_SYSTEM = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"];
const REFUSED_SQLSTATE = [
  "57P03", // cannot_connect_now: starting up, shutting down, or a standby not accepting connections
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
];
/** Failures of an established session: nothing ran if it happened during setup, anything may have after. */
const LOST_SYSTEM = ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"];
const LOST_SQLSTATE = [
  "57P01", // admin_shutdown: the server is stopping (fast shutdown, pg_terminate_backend)
  "57P02", // crash_shutdown: another backend crashed and the server is resetting
  "08000", // connection_exception
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "08007", // transaction_resolution_unknown
];

const RULES: readonly ErrorRule[] = [
  {
    // A move renamed the source schema and released the write lock: the statement resolved the name on
    // an island that no longer holds the microshard (DESIGN §4), and the failure is the proof it did
    // not run. Rediscover, retry on the new island.
    kind: "undefined-table",
    match: { sqlstates: ["42P01"] },
    phase: "any",
    action: "rediscover-map",
    applied: "not-applied",
    nodeDown: false,
    note: "42P01 undefined_table: the microshard's schema was renamed or moved away",
  },
  {
    // The same, for statements that name the schema rather than a table in it (SET search_path, a
    // schema-qualified function such as the per-microshard ID generator).
    kind: "invalid-schema",
    match: { sqlstates: ["3F000"] },
    phase: "any",
    action: "rediscover-map",
    applied: "not-applied",
    nodeDown: false,
    note: "3F000 invalid_schema_name: the microshard's schema was renamed or moved away",
  },
  {
    // A write reached a node that is now a replica (a failover demoted it, or roles were stale). The
    // node is healthy for reads, so it is not marked down; find the new master and retry there.
    kind: "read-only",
    match: { sqlstates: ["25006"] },
    phase: "any",
    action: "rediscover-roles",
    applied: "not-applied",
    nodeDown: false,
    note: "25006 read_only_sql_transaction: the node is a replica now",
  },
  {
    // No session was ever established (refused, unreachable, unknown host, server not accepting
    // connections), so nothing ran in any phase. The node may be dead or mid-failover.
    kind: "connection-refused",
    match: { systemCodes: REFUSED_SYSTEM, sqlstates: REFUSED_SQLSTATE },
    phase: "any",
    action: "rediscover-roles",
    applied: "not-applied",
    nodeDown: true,
    note: "no session was established: refused, unreachable, or not accepting connections",
  },
  {
    // The server is alive but full; the node is fine, so just back off and try again.
    kind: "too-many-connections",
    match: { sqlstates: ["53300"] },
    phase: "any",
    action: "retry",
    applied: "not-applied",
    nodeDown: false,
    note: "53300 too_many_connections: the server refused a new session, nothing ran",
  },
  {
    // The session died while being set up (reset, timeout, shutdown), before the statement was sent:
    // nothing ran. Treat the node as down and look for the island's master again.
    kind: "connection-setup-failed",
    match: { systemCodes: LOST_SYSTEM, sqlstates: LOST_SQLSTATE, driverError: true },
    phase: "connect",
    action: "rediscover-roles",
    applied: "not-applied",
    nodeDown: true,
    note: "the connection failed during setup, before the statement was sent",
  },
  {
    // The session died after the statement was sent: the commit may have happened just before the
    // server shut down or the socket was cut. Only an idempotent statement may be retried.
    kind: "connection-lost",
    match: { systemCodes: LOST_SYSTEM, sqlstates: LOST_SQLSTATE, driverError: true },
    phase: "query",
    action: "rediscover-roles",
    applied: "unknown",
    nodeDown: true,
    note: "the connection was lost after the statement was sent; it may have been applied",
  },
  {
    // Serializable/repeatable-read conflict: PostgreSQL rolled the whole transaction back.
    kind: "serialization-failure",
    match: { sqlstates: ["40001"] },
    phase: "any",
    action: "retry",
    applied: "not-applied",
    nodeDown: false,
    note: "40001 serialization_failure: the transaction was rolled back",
  },
  {
    // PostgreSQL chose this transaction as the deadlock victim and rolled it back.
    kind: "deadlock",
    match: { sqlstates: ["40P01"] },
    phase: "any",
    action: "retry",
    applied: "not-applied",
    nodeDown: false,
    note: "40P01 deadlock_detected: the transaction was rolled back",
  },
  {
    // lock_timeout or NOWAIT: e.g. a move's switch holds the write lock; the statement did not run.
    kind: "lock-not-available",
    match: { sqlstates: ["55P03"] },
    phase: "any",
    action: "retry",
    applied: "not-applied",
    nodeDown: false,
    note: "55P03 lock_not_available: lock_timeout or NOWAIT, the statement did not run",
  },
  {
    // statement_timeout or a cancel request: the caller's own limit, so retrying would defeat it.
    kind: "query-canceled",
    match: { sqlstates: ["57014"] },
    phase: "any",
    action: "fail",
    applied: "not-applied",
    nodeDown: false,
    note: "57014 query_canceled: statement_timeout or a cancel, the caller's limit",
  },
  {
    // PostgreSQL itself says it cannot tell whether the statement completed (only once one was sent).
    kind: "completion-unknown",
    match: { sqlstates: ["40003"] },
    phase: "query",
    action: "fail",
    applied: "unknown",
    nodeDown: false,
    note: "40003 statement_completion_unknown: PostgreSQL cannot tell whether it ran",
  },
  {
    // Everything else is the caller's to see: syntax (42601), constraints (23505, 23503, …),
    // authentication (28P01), bad parameters, programming errors. A server error aborted the statement.
    kind: "other",
    match: { anything: true },
    phase: "any",
    action: "fail",
    applied: "not-applied",
    nodeDown: false,
    note: "any other error is the caller's: syntax, constraints, authentication, bugs",
  },
];

/** The table `classifyError` walks, top to bottom; the first matching row wins. */
export const ERROR_POLICY: readonly ErrorRule[] = Object.freeze(
  RULES.map((rule) =>
    Object.freeze({
      ...rule,
      match: Object.freeze({
        ...rule.match,
        ...(rule.match.sqlstates && { sqlstates: Object.freeze([...rule.match.sqlstates]) }),
        ...(rule.match.systemCodes && { systemCodes: Object.freeze([...rule.match.systemCodes]) }),
      }),
    }),
  ),
);

/** What a thrown value is, as far as the table cares. */
type ErrorSource =
  | { readonly type: "sqlstate"; readonly code: string }
  | { readonly type: "system"; readonly code: string }
  | { readonly type: "driver" }
  | { readonly type: "other" };

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

/**
 * Classifies what a node-postgres call (`pool.connect()`, `client.query()`) threw. Pure: never throws
 * and never modifies `error`. Give it only errors from the driver: an application's own plain `Error`
 * thrown inside a transaction callback would read as a lost connection.
 */
export function classifyError(error: unknown, phase: QueryPhase): ErrorVerdict {
  const source = sourceOf(error);
  const rule = ERROR_POLICY.find(
    (r) => (r.phase === "any" || r.phase === phase) && matches(r.match, source),
  );
  // The last row matches anything, so `rule` is always found.
  const { kind, action, applied, nodeDown } = rule ?? fallbackRule();
  return {
    kind,
    action,
    applied,
    nodeDown,
    sqlstate: source.type === "sqlstate" ? source.code : undefined,
  };
}

function matches(match: ErrorMatch, source: ErrorSource): boolean {
  if (match.anything) return true;
  switch (source.type) {
    case "sqlstate":
      return match.sqlstates?.includes(source.code) ?? false;
    case "system":
      return match.systemCodes?.includes(source.code) ?? false;
    case "driver":
      return match.driverError ?? false;
    case "other":
      return false;
  }
}

function sourceOf(error: unknown): ErrorSource {
  if (typeof error !== "object" || error === null) return { type: "other" };
  const code = readField(error, "code");
  if (typeof code === "string") {
    // A server error response: its code is a SQLSTATE, even one a user raised that looks like `EPIPE`.
    if (isServerError(error)) {
      return SQLSTATE_PATTERN.test(code) ? { type: "sqlstate", code } : { type: "other" };
    }
    // Node system codes (`ECONNRESET`) and SQLSTATEs (`42P01`) never collide in the table's lists, so
    // a code from a wrapper that copied it onto a plain object is still recognised.
    if (SQLSTATE_PATTERN.test(code) && !/^E[A-Z]+$/.test(code)) return { type: "sqlstate", code };
    return { type: "system", code };
  }
  // A plain `Error` (not a TypeError or other subclass, which are programming errors) without a code is
  // how node-postgres reports a terminated connection or a timeout.
  if (error instanceof Error && error.name === "Error" && code === undefined)
    return { type: "driver" };
  return { type: "other" };
}

function isServerError(error: object): boolean {
  return error instanceof pg.DatabaseError || typeof readField(error, "severity") === "string";
}

/** Reads a field without trusting the object: a getter that throws counts as absent. */
function readField(error: object, field: string): unknown {
  try {
    return (error as Record<string, unknown>)[field];
  } catch {
    return undefined;
  }
}

function fallbackRule(): ErrorRule {
  const last = ERROR_POLICY[ERROR_POLICY.length - 1];
  if (!last) throw new Error("ERROR_POLICY is empty");
  return last;
}
