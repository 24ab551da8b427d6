/**
 * The errors the entity layer gives its callers.
 *
 * Same catalogue style as `@archipelago/client`'s errors: a stable `code`, typed fields, `toJSON()`.
 * They never carry row data: a message names the entity and the ID the caller already had, never a
 * field value, so an error shown to one tenant cannot reveal another tenant's rows. Validation errors
 * name the field and what is wrong with it, never the rejected value.
 */
import { ArchipelagoError } from "@archipelago/topology";

/** No row with this ID (or unique key) exists. */
export class EntNotFoundError extends ArchipelagoError {
  readonly code = "ENT_NOT_FOUND";
  override readonly name = "EntNotFoundError";
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} does not exist`);
  }
  protected override details() {
    return { entity: this.entity, id: this.id };
  }
}

/** The row exists but the viewer's read rules do not allow it. */
export class EntNotReadableError extends ArchipelagoError {
  readonly code = "ENT_NOT_READABLE";
  override readonly name = "EntNotReadableError";
  constructor(
    readonly entity: string,
    readonly id: string,
    /** The viewer's principal (`null` for a guest). */
    readonly principal: string | null,
    /** Which rule decided: its index and name, or "no rule allowed". */
    readonly reason: string,
  ) {
    super(`${entity} ${id} is not readable by ${principal ?? "a guest"}: ${reason}`);
  }
  protected override details() {
    return { entity: this.entity, id: this.id, principal: this.principal, reason: this.reason };
  }
}

/** A write rule refused an insert, update or delete; nothing was written. */
export class EntNotWritableError extends ArchipelagoError {
  readonly code = "ENT_NOT_WRITABLE";
  override readonly name = "EntNotWritableError";
  constructor(
    readonly entity: string,
    readonly operation: "insert" | "update" | "delete",
    /** The row's ID; undefined for an insert. */
    readonly id: string | undefined,
    readonly principal: string | null,
    readonly reason: string,
  ) {
    super(
      `${operation} of ${entity}${id === undefined ? "" : ` ${id}`} is not allowed for ` +
        `${principal ?? "a guest"}: ${reason}`,
    );
  }
  protected override details() {
    return {
      entity: this.entity,
      operation: this.operation,
      id: this.id,
      principal: this.principal,
      reason: this.reason,
    };
  }
}

/** Input failed the entity's zod schemas; nothing was sent to the database. */
export class EntValidationError extends ArchipelagoError {
  readonly code = "ENT_VALIDATION";
  override readonly name = "EntValidationError";
  constructor(
    readonly entity: string,
    readonly issues: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(
      `Invalid ${entity} input: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
    );
  }
  protected override details() {
    return { entity: this.entity, issues: this.issues };
  }
}

/** The entity definition itself is wrong (found by `defineEnt`, before any query). */
export class EntDefinitionError extends ArchipelagoError {
  readonly code = "ENT_DEFINITION";
  override readonly name = "EntDefinitionError";
  constructor(
    readonly entity: string,
    readonly reason: string,
  ) {
    super(`Entity ${entity} is defined wrongly: ${reason}`);
  }
  protected override details() {
    return { entity: this.entity, reason: this.reason };
  }
}

/**
 * A query the entity layer will not run as asked: it names an unknown field, an operator the field
 * does not support, or it would have to visit every microshard without saying so (use `selectAcross`).
 */
export class EntQueryError extends ArchipelagoError {
  readonly code = "ENT_QUERY";
  override readonly name = "EntQueryError";
  constructor(
    readonly entity: string,
    readonly reason: string,
  ) {
    super(`Invalid ${entity} query: ${reason}`);
  }
  protected override details() {
    return { entity: this.entity, reason: this.reason };
  }
}
