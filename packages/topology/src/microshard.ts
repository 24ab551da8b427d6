/**
 * Microshard numbers and their schema names.
 *
 * A microshard is a PostgreSQL schema named `sh` + its number in four digits: `sh0042` is microshard 42.
 * Number 0 (`sh0000`) is shard 0, which holds the global tables and lives on the global island. The
 * mapping is a bijection on 0..9999; anything else is rejected, so a schema name built here is always a
 * safe identifier.
 */
import { InvalidMicroshardError } from "./errors.js";

/** Shard 0: global (unsharded) tables. */
export const GLOBAL_MICROSHARD = 0;
/** The smallest number of a sharded microshard. */
export const MIN_MICROSHARD = 1;
/** The largest microshard number; the ID format has four digits for it. */
export const MAX_MICROSHARD = 9999;

/** A microshard number, 0..9999 (0 = shard 0). Branded so that a plain number must be checked first. */
export type MicroshardNumber = number & { readonly __brand: "MicroshardNumber" };

const SCHEMA_NAME = /^sh(\d{4})$/;

/**
 * Checks a microshard number (0..9999, integer).
 * @throws InvalidMicroshardError
 */
export function microshardNumber(value: number): MicroshardNumber {
  if (!Number.isSafeInteger(value) || value < GLOBAL_MICROSHARD || value > MAX_MICROSHARD) {
    throw new InvalidMicroshardError(
      String(value),
      `a microshard number is an integer from ${GLOBAL_MICROSHARD} to ${MAX_MICROSHARD}`,
    );
  }
  return value as MicroshardNumber;
}

/** `42 → "sh0042"`, `0 → "sh0000"`. @throws InvalidMicroshardError */
export function microshardSchema(microshard: number): string {
  return `sh${String(microshardNumber(microshard)).padStart(4, "0")}`;
}

/** `"sh0042" → 42`. Only the exact canonical form is accepted. @throws InvalidMicroshardError */
export function parseMicroshardSchema(schema: string): MicroshardNumber {
  const match = SCHEMA_NAME.exec(schema);
  if (!match?.[1]) {
    throw new InvalidMicroshardError(schema, 'a microshard schema is "sh" followed by four digits');
  }
  return Number(match[1]) as MicroshardNumber;
}

/** True when the name is a microshard schema (`sh0000`..`sh9999`). */
export function isMicroshardSchema(schema: string): boolean {
  return SCHEMA_NAME.test(schema);
}
