/**
 * The errors the client runtime gives its callers.
 *
 * Each is a small class with a stable `code` and typed fields, in the catalogue style of
 * `@archipelago/topology`'s `errors.ts`, so that the CLI and the HTTP API can return them as JSON and
 * callers branch on `code`, never on message text. Messages say what happened, to what, and what to do.
 *
 * Two rules keep them safe to log and to return. First, a message or `details()` never carries row data
 * or a password: a PostgreSQL error's message and `detail` can quote key values (`23505` says which key
 * was duplicated), so an underlying error is summarized by its name and code only; the full error stays
 * reachable in-process as the ES2022 `cause`. Second, an error in flight is never mutated: the driver's
 * error is wrapped, not annotated, so its stack and fields stay what node-postgres made them.
 */
import { ArchipelagoError } from "@archipelago/topology";

/** A PostgreSQL WAL position that is not `X/Y` with 1..8 hex digits on each side. */
export class InvalidLsnError extends ArchipelagoError {
  readonly code = "INVALID_LSN";
  override readonly name = "InvalidLsnError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Invalid LSN ${JSON.stringify(truncate(input))}: ${reason}`);
  }
  protected override details() {
    return { input: truncate(this.input), reason: this.reason };
  }
}

/** No island holds the microshard, even after a fresh discovery. */
export class MicroshardNotFoundError extends ArchipelagoError {
  readonly code = "MICROSHARD_NOT_FOUND";
  override readonly name = "MicroshardNotFoundError";
  constructor(readonly microshard: number) {
    super(
      `Microshard ${microshard} is not active, receiving or sent on any island: no island holds it. ` +
        "Check the ID it came from (the microshard is digits 2-5 of an ID). " +
        "One rediscovery was made before failing; no further retry was made.",
    );
  }
  protected override details() {
    return { microshard: this.microshard };
  }
}

/**
 * The connection died after a non-idempotent write was sent, so it may or may not have been applied
 * (the commit can land just before the session is cut). The client does not retry it: a blind retry
 * could apply it twice.
 */
export class OutcomeUnknownError extends ArchipelagoError {
  readonly code = "OUTCOME_UNKNOWN";
  override readonly name = "OutcomeUnknownError";
  readonly island: number;
  readonly node: string;
  readonly microshards: readonly number[];
  constructor(input: {
    readonly island: number;
    /** The node's name (`host:port` or its configured label), never its DSN. */
    readonly node: string;
    readonly microshards: readonly number[];
    readonly cause: unknown;
  }) {
    super(
      `The connection to node ${input.node} of island ${input.island} was lost after a write to ` +
        `microshard(s) ${list(input.microshards)} was sent (${describe(input.cause)}); it may or may ` +
        "not have been applied. Mark the write idempotent to let the client retry it, or check " +
        "whether it was applied before retrying.",
      { cause: input.cause },
    );
    this.island = input.island;
    this.node = input.node;
    this.microshards = Object.freeze([...input.microshards]);
  }
  protected override details() {
    return {
      island: this.island,
      node: this.node,
      microshards: this.microshards,
      cause: summarize(this.cause),
    };
  }
}

/** Retries of "not applied" errors ran out of time (a blip or a failover longer than the deadline). */
export class RetryDeadlineExceededError extends ArchipelagoError {
  readonly code = "RETRY_DEADLINE_EXCEEDED";
  override readonly name = "RetryDeadlineExceededError";
  readonly deadlineMs: number;
  readonly attempts: number;
  readonly lastError: unknown;
  readonly microshards: readonly number[] | undefined;
  readonly island: number | undefined;
  constructor(input: {
    readonly deadlineMs: number;
    readonly attempts: number;
    readonly lastError: unknown;
    readonly microshards?: readonly number[];
    readonly island?: number;
  }) {
    const where = [
      input.microshards ? `microshard(s) ${list(input.microshards)}` : "",
      input.island === undefined ? "" : `island ${input.island}`,
    ]
      .filter(Boolean)
      .join(" on ");
    super(
      `Gave up after ${input.attempts} attempt(s) in ${input.deadlineMs} ms` +
        `${where ? ` for ${where}` : ""}; the last error was ${describe(input.lastError)}. ` +
        "Every failed attempt was either not applied or an idempotent statement. Retry later, " +
        "or raise retry.deadlineMs if moves or failovers take longer.",
      { cause: input.lastError },
    );
    this.deadlineMs = input.deadlineMs;
    this.attempts = input.attempts;
    this.lastError = input.lastError;
    this.microshards = input.microshards ? Object.freeze([...input.microshards]) : undefined;
    this.island = input.island;
  }
  protected override details() {
    return {
      deadlineMs: this.deadlineMs,
      attempts: this.attempts,
      microshards: this.microshards,
      island: this.island,
      lastError: summarize(this.lastError),
    };
  }
}

/** No healthy node of the island can take the request (no master answers, every node is down, …). */
export class IslandUnavailableError extends ArchipelagoError {
  readonly code = "ISLAND_UNAVAILABLE";
  override readonly name = "IslandUnavailableError";
  readonly island: number;
  readonly reason: string;
  constructor(input: { readonly island: number; readonly reason: string }) {
    super(`Island ${input.island} has no healthy node for this request: ${input.reason}`);
    this.island = input.island;
    this.reason = input.reason;
  }
  protected override details() {
    return { island: this.island, reason: this.reason };
  }
}

/**
 * A transaction or statement bound to one microshard tried to touch another. A transaction lives on
 * one island, and the two microshards may be on different islands (or get there by the next move).
 */
export class CrossMicroshardError extends ArchipelagoError {
  readonly code = "CROSS_MICROSHARD";
  override readonly name = "CrossMicroshardError";
  readonly expected: number;
  readonly actual: number;
  constructor(input: { readonly expected: number; readonly actual: number }) {
    super(
      `This transaction is bound to microshard ${input.expected} but tried to touch microshard ` +
        `${input.actual}; use one transaction per microshard.`,
    );
    this.expected = input.expected;
    this.actual = input.actual;
  }
  protected override details() {
    return { expected: this.expected, actual: this.actual };
  }
}

/**
 * Catalogs claim the microshard is active on two or more islands, which the move protocol never
 * produces. Discovery kept the previous placement rather than route to either.
 */
export class MicroshardConflictError extends ArchipelagoError {
  readonly code = "MICROSHARD_CONFLICT";
  override readonly name = "MicroshardConflictError";
  readonly microshard: number;
  readonly islands: readonly number[];
  constructor(input: { readonly microshard: number; readonly islands: readonly number[] }) {
    super(
      `Microshard ${input.microshard} is active on islands ${list(input.islands)} at once; ` +
        "discovery kept the previous map for it. Check the catalogs (a move may need repair).",
    );
    this.microshard = input.microshard;
    this.islands = Object.freeze([...input.islands]);
  }
  protected override details() {
    return { microshard: this.microshard, islands: this.islands };
  }
}

/** A serialized session (cookie, header) that is not one this library wrote. */
export class InvalidSessionError extends ArchipelagoError {
  readonly code = "INVALID_SESSION";
  override readonly name = "InvalidSessionError";
  constructor(readonly reason: string) {
    super(`Invalid session: ${reason}`);
  }
  protected override details() {
    return { reason: this.reason };
  }
}

/**
 * An underlying error reduced to what is safe to print: its name and code (a SQLSTATE or a Node system
 * code), never its message, which may quote row data.
 */
function summarize(error: unknown): { name: string; code?: string } {
  if (error instanceof ArchipelagoError) return { name: error.name, code: error.code };
  if (typeof error === "object" && error !== null) {
    const name =
      error instanceof Error ? error.name : (error.constructor?.name ?? "Object") || "Object";
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? { name, code } : { name };
  }
  return { name: typeof error };
}

function describe(error: unknown): string {
  const { name, code } = summarize(error);
  return code ? `${name} ${code}` : name;
}

function list(numbers: readonly number[]): string {
  return numbers.length > 10
    ? `${numbers.slice(0, 10).join(", ")}, … (${numbers.length} in all)`
    : numbers.join(", ");
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** A microshard was in the switch window of a move (active on no island) at the last attempt. */
export class MicroshardInMotionError extends ArchipelagoError {
  readonly code = "MICROSHARD_IN_MOTION";
  override readonly name = "MicroshardInMotionError";
  constructor(readonly microshard: number) {
    super(`Microshard ${microshard} is being switched between islands (active on none right now).`);
  }
  protected override details() {
    return { microshard: this.microshard };
  }
}

/** A write-only statement was sent as a read (it reached a replica and PostgreSQL refused it). */
export class WriteSentAsReadError extends ArchipelagoError {
  readonly code = "WRITE_SENT_AS_READ";
  override readonly name = "WriteSentAsReadError";
  constructor(readonly microshards: readonly number[]) {
    super(
      `A statement for microshard(s) ${microshards.join(", ")} changes data but was sent as a read ` +
        "and reached a replica. Pass { write: true }.",
    );
  }
  protected override details() {
    return { microshards: this.microshards };
  }
}

/** A node that was removed from the config (or whose cluster ended) was asked for a connection. */
export class NodeRemovedError extends ArchipelagoError {
  readonly code = "NODE_REMOVED";
  override readonly name = "NodeRemovedError";
  constructor(
    readonly island: number,
    readonly node: string,
  ) {
    super(`Node ${node} of island ${island} was removed from the config or its cluster has ended.`);
  }
  protected override details() {
    return { island: this.island, node: this.node };
  }
}
