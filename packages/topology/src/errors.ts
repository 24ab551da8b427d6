/**
 * The error catalogue shared by every package.
 *
 * Errors are small classes with a stable `code` and typed fields rather than prose, so that the CLI and
 * the HTTP API can return them as JSON and callers can branch on `code` instead of matching message text.
 * Messages say what happened, to what, and what to do; they never include a password.
 */
export abstract class ArchipelagoError extends Error {
  /** A stable, machine-readable code such as `INVALID_ID`. */
  abstract readonly code: string;

  /** Fields for JSON output; subclasses add their own. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, name: this.name, message: this.message, ...this.details() };
  }

  protected details(): Record<string, unknown> {
    return {};
  }
}

/** The cluster config failed validation; `issues` names each field and what is wrong with it. */
export class InvalidConfigError extends ArchipelagoError {
  readonly code = "INVALID_CONFIG";
  override readonly name = "InvalidConfigError";
  constructor(readonly issues: readonly { path: string; message: string }[]) {
    super(
      `Invalid cluster config: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
    );
  }
  protected override details() {
    return { issues: this.issues };
  }
}

/** A value is not a valid ID (see `id.ts` for the format). */
export class InvalidIdError extends ArchipelagoError {
  readonly code = "INVALID_ID";
  override readonly name = "InvalidIdError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Invalid ID ${JSON.stringify(truncate(input))}: ${reason}`);
  }
  protected override details() {
    return { input: truncate(this.input), reason: this.reason };
  }
}

/** A value is not a valid microshard number or schema name. */
export class InvalidMicroshardError extends ArchipelagoError {
  readonly code = "INVALID_MICROSHARD";
  override readonly name = "InvalidMicroshardError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Invalid microshard ${JSON.stringify(truncate(input))}: ${reason}`);
  }
  protected override details() {
    return { input: truncate(this.input), reason: this.reason };
  }
}

/** A microshard state change that the state machine does not allow. */
export class IllegalTransitionError extends ArchipelagoError {
  readonly code = "ILLEGAL_TRANSITION";
  override readonly name = "IllegalTransitionError";
  constructor(
    readonly from: string,
    readonly event: string,
  ) {
    super(`Microshard state "${from}" has no transition for event "${event}"`);
  }
  protected override details() {
    return { from: this.from, event: this.event };
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
