/**
 * IDs that name their own microshard.
 *
 * Every query is routed by the microshard that holds the row, and the router must know it from the ID
 * alone: a lookup table from ID to microshard would be a second source of truth that a move would have
 * to update atomically with the data. So the microshard is part of the ID. An ID is a PostgreSQL
 * `bigint` written as exactly 19 decimal digits:
 *
 *     E SSSS NNNNNNNNNNNNNN
 *     │ │    └ sequence: 14 digits, 1..99999999999999, from the microshard's own sequence
 *     │ └ microshard number: 4 digits, 0000..9999 (0000 is shard 0)
 *     └ environment: 1..8
 *
 * The environment digit keeps IDs of different deployments (prod, staging, …) apart and guarantees the
 * width: since it is never 0, every ID has exactly 19 digits, so the microshard is always at the same
 * offset and finding it is a regex test and a slice. It stops at 8 because `9…` may exceed the bigint
 * maximum 9223372036854775807, while `8 9999 99999999999999` does not. The sequence is generated inside
 * PostgreSQL by a function in the microshard's schema, so it moves with the microshard.
 *
 * IDs travel as strings. A JavaScript number holds integers exactly only up to 2^53 (16 digits), so a
 * `number` ID would silently round to a neighbour's ID; numbers are rejected, not converted. A `bigint`
 * is exact and is accepted. Rejected alternative: bit-packing (`microshard << 50 | sequence`), as
 * Instagram does: equally cheap to decode, but the microshard is then invisible in logs, URLs and
 * `psql`, and decoding needs BigInt arithmetic on every query.
 */
import { InvalidIdError } from "./errors.js";
import { type MicroshardNumber, microshardNumber } from "./microshard.js";

/** Every ID has exactly this many decimal digits. */
export const ID_DIGITS = 19;
/** Digits of the per-microshard sequence part (the tail of the ID). */
export const SEQUENCE_DIGITS = 14;
/** The largest sequence value: 14 nines. Sequences start at 1. */
export const MAX_SEQUENCE = 10n ** BigInt(SEQUENCE_DIGITS) - 1n;
/** The smallest environment digit. */
export const MIN_ENVIRONMENT = 1;
/** The largest environment digit; 9 could overflow PostgreSQL's bigint. */
export const MAX_ENVIRONMENT = 8;

/** A checked ID string. Branded so that an unchecked string must go through `parseId` first. */
export type Id = string & { readonly __brand: "Id" };

/** The parts of an ID. */
export interface ParsedId {
  readonly id: Id;
  readonly environment: number;
  readonly microshard: MicroshardNumber;
  readonly sequence: bigint;
}

/**
 * The whole format in one regular expression: environment 1..8, 4 digits, 14 digits that are not all
 * zero. The specification `isWellFormedId` implements (its tests check the two agree).
 */
export const ID_PATTERN = /^[1-8]\d{4}(?!0{14}$)\d{14}$/;

/**
 * Splits an ID into its parts.
 * @throws InvalidIdError saying what is wrong with the input.
 */
export function parseId(input: unknown): ParsedId {
  const id = checkId(input);
  return {
    id,
    environment: id.charCodeAt(0) - 48,
    microshard: Number(id.slice(1, 5)) as MicroshardNumber,
    sequence: BigInt(id.slice(5)),
  };
}

/**
 * The microshard an ID belongs to. The routing hot path: a regex test and a slice, no BigInt.
 * @throws InvalidIdError
 */
export function microshardOfId(input: unknown): MicroshardNumber {
  return Number(checkId(input).slice(1, 5)) as MicroshardNumber;
}

/** True when `x` is a valid ID string (a bigint is not an `Id`; convert it with `parseId`). */
export function isId(x: unknown): x is Id {
  return typeof x === "string" && isWellFormedId(x);
}

/**
 * Builds an ID from its parts.
 * @throws InvalidIdError for a bad environment or sequence.
 * @throws InvalidMicroshardError for a bad microshard number.
 */
export function formatId(parts: {
  environment: number;
  microshard: number;
  sequence: bigint | number;
}): Id {
  const { environment, microshard, sequence } = parts;
  const input = `environment=${environment} microshard=${microshard} sequence=${sequence}`;
  if (
    !Number.isInteger(environment) ||
    environment < MIN_ENVIRONMENT ||
    environment > MAX_ENVIRONMENT
  ) {
    throw new InvalidIdError(
      input,
      `environment must be an integer from ${MIN_ENVIRONMENT} to ${MAX_ENVIRONMENT}`,
    );
  }
  const shard = microshardNumber(microshard);
  if (typeof sequence === "number" && !Number.isSafeInteger(sequence)) {
    throw new InvalidIdError(input, "sequence must be a safe integer or a bigint");
  }
  const seq = BigInt(sequence);
  if (seq < 1n || seq > MAX_SEQUENCE) {
    throw new InvalidIdError(input, `sequence must be from 1 to ${MAX_SEQUENCE}`);
  }
  const shardDigits = String(shard).padStart(4, "0");
  return `${environment}${shardDigits}${String(seq).padStart(SEQUENCE_DIGITS, "0")}` as Id;
}

/**
 * The same rule as `ID_PATTERN`, as a character scan: this runs once per routed ID, and a scan costs a
 * fraction of a regex test (measured in the client's load benchmark). `id.test.ts` checks that both
 * agree on every generated input.
 */
export function isWellFormedId(s: string): boolean {
  if (s.length !== ID_DIGITS) return false;
  const first = s.charCodeAt(0);
  if (first < 49 || first > 56) return false; // '1'..'8'
  let sequenceNonZero = false;
  for (let i = 1; i < ID_DIGITS; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    if (i >= 5 && c !== 48) sequenceNonZero = true;
  }
  return sequenceNonZero;
}

function checkId(input: unknown): Id {
  if (typeof input === "string" && isWellFormedId(input)) return input as Id;
  if (typeof input === "bigint") {
    const text = input.toString();
    if (isWellFormedId(text)) return text as Id;
    throw new InvalidIdError(text, explain(text));
  }
  if (typeof input === "string") throw new InvalidIdError(input, explain(input));
  if (typeof input === "number") {
    throw new InvalidIdError(
      String(input),
      "an ID must be a string (or bigint), not a number: " +
        "a JavaScript number cannot hold a 19-digit ID exactly",
    );
  }
  throw new InvalidIdError(
    input === null ? "null" : `(${typeof input})`,
    `an ID must be a string of ${ID_DIGITS} digits, not ${input === null ? "null" : typeof input}`,
  );
}

/** Why a string failing `ID_PATTERN` fails; off the hot path. */
function explain(s: string): string {
  if (s === "") return "the ID is empty";
  if (s.trim() !== s) return "the ID has leading or trailing whitespace";
  if (!/^\d+$/.test(s)) {
    return "an ID has only the digits 0-9 (no sign, exponent, separators or other characters)";
  }
  if (s.length !== ID_DIGITS) {
    return `an ID has exactly ${ID_DIGITS} digits, this one has ${s.length}`;
  }
  if (s[0] === "0" || s[0] === "9") {
    const range = `${MIN_ENVIRONMENT} to ${MAX_ENVIRONMENT}`;
    return `the first digit is the environment, ${range}; it is ${s[0]}`;
  }
  return `the sequence part (the last ${SEQUENCE_DIGITS} digits) is 0; sequences start at 1`;
}
