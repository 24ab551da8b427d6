import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidIdError, InvalidMicroshardError } from "./errors.js";
import {
  formatId,
  ID_DIGITS,
  ID_PATTERN,
  isId,
  isWellFormedId,
  MAX_ENVIRONMENT,
  MAX_SEQUENCE,
  MIN_ENVIRONMENT,
  microshardOfId,
  parseId,
} from "./id.js";
import { MAX_MICROSHARD } from "./microshard.js";

const PG_BIGINT_MAX = 9223372036854775807n;

const parts = fc.record({
  environment: fc.integer({ min: MIN_ENVIRONMENT, max: MAX_ENVIRONMENT }),
  microshard: fc.integer({ min: 0, max: MAX_MICROSHARD }),
  sequence: fc.bigInt({ min: 1n, max: MAX_SEQUENCE }),
});

/** The format written out independently of `id.ts`, with BigInt arithmetic. */
function isValidReference(s: string): boolean {
  return /^[0-9]{19}$/.test(s) && s[0] !== "0" && s[0] !== "9" && BigInt(s.slice(5)) > 0n;
}

function reasonOf(input: unknown): string {
  try {
    parseId(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidIdError);
    return (e as InvalidIdError).reason;
  }
  throw new Error(`accepted ${String(input)}`);
}

describe("parseId", () => {
  it("splits an ID into environment, microshard and sequence", () => {
    expect(parseId("1004200000000000007")).toEqual({
      id: "1004200000000000007",
      environment: 1,
      microshard: 42,
      sequence: 7n,
    });
  });

  it("accepts shard 0 and the extremes", () => {
    expect(parseId("1000000000000000001").microshard).toBe(0);
    expect(parseId("8999999999999999999")).toMatchObject({ environment: 8, microshard: 9999 });
    expect(parseId("8999999999999999999").sequence).toBe(MAX_SEQUENCE);
  });

  it("accepts a bigint and returns the string form", () => {
    expect(parseId(1004200000000000007n).id).toBe("1004200000000000007");
    expect(microshardOfId(1004200000000000007n)).toBe(42);
  });

  it.each([
    ["", "empty"],
    [" 1004200000000000007", "whitespace"],
    ["1004200000000000007\n", "whitespace"],
    ["1e5", "digits"],
    ["-1004200000000000007", "digits"],
    ["+1004200000000000007", "digits"],
    ["1004_200000000000007", "digits"],
    ["100420000000000007", "exactly 19 digits"],
    ["10042000000000000007", "exactly 19 digits"],
    ["0004200000000000007", "environment"],
    ["9004200000000000007", "environment"],
    ["1004200000000000000", "sequence"],
  ])("rejects %j (%s)", (input, reason) => {
    expect(reasonOf(input)).toContain(reason);
    expect(() => microshardOfId(input)).toThrow(InvalidIdError);
    expect(isId(input)).toBe(false);
  });

  it("rejects a number, saying a number cannot hold an ID exactly", () => {
    expect(reasonOf(Number("1004200000000000007"))).toMatch(/cannot hold a 19-digit ID exactly/);
    expect(reasonOf(5)).toMatch(/not a number/);
  });

  it.each([null, undefined, {}, [], true, Symbol("x")])("rejects %s", (input) => {
    expect(reasonOf(input)).toMatch(/must be a string/);
  });

  it("rejects bigints outside the format", () => {
    expect(reasonOf(-1004200000000000007n)).toContain("digits");
    expect(reasonOf(42n)).toContain("exactly 19 digits");
    expect(reasonOf(9004200000000000007n)).toContain("environment");
  });

  it("returns a JSON-serializable error with the input and reason", () => {
    const error = (() => {
      try {
        parseId("abc");
      } catch (e) {
        return e as InvalidIdError;
      }
    })();
    expect(error?.toJSON()).toMatchObject({ code: "INVALID_ID", input: "abc" });
  });
});

describe("formatId", () => {
  it("pads the microshard and the sequence", () => {
    expect(formatId({ environment: 1, microshard: 42, sequence: 7n })).toBe("1004200000000000007");
    expect(formatId({ environment: 3, microshard: 0, sequence: 1 })).toBe("3000000000000000001");
  });

  it.each([
    [{ environment: 0, microshard: 1, sequence: 1n }, InvalidIdError],
    [{ environment: 9, microshard: 1, sequence: 1n }, InvalidIdError],
    [{ environment: 1.5, microshard: 1, sequence: 1n }, InvalidIdError],
    [{ environment: 1, microshard: 10000, sequence: 1n }, InvalidMicroshardError],
    [{ environment: 1, microshard: -1, sequence: 1n }, InvalidMicroshardError],
    [{ environment: 1, microshard: 1, sequence: 0n }, InvalidIdError],
    [{ environment: 1, microshard: 1, sequence: MAX_SEQUENCE + 1n }, InvalidIdError],
    [{ environment: 1, microshard: 1, sequence: 2 ** 53 }, InvalidIdError],
    [{ environment: 1, microshard: 1, sequence: 0.5 }, InvalidIdError],
  ])("rejects %o", (input, errorClass) => {
    expect(() => formatId(input)).toThrow(errorClass);
  });
});

describe("properties", () => {
  it("formatId and parseId round-trip", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const id = formatId(p);
        expect(id).toHaveLength(ID_DIGITS);
        expect(isId(id)).toBe(true);
        expect(parseId(id)).toEqual({ id, ...p });
        expect(parseId(BigInt(id)).id).toBe(id);
        expect(microshardOfId(id)).toBe(p.microshard);
      }),
    );
  });

  it("every ID fits in a PostgreSQL bigint", () => {
    fc.assert(fc.property(parts, (p) => BigInt(formatId(p)) <= PG_BIGINT_MAX));
    expect(
      BigInt(formatId({ environment: 8, microshard: 9999, sequence: MAX_SEQUENCE })),
    ).toBeLessThan(PG_BIGINT_MAX);
  });

  it("accepts exactly the strings the format allows; the rest throw InvalidIdError", () => {
    const validId = parts.map((p) => formatId(p) as string);
    const mutated = fc
      .tuple(validId, fc.nat(ID_DIGITS), fc.string({ maxLength: 3 }), fc.nat(3))
      .map(([id, at, text, drop]) => id.slice(0, at) + text + id.slice(at + drop));
    const candidates = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[0-9]{17,21}$/),
      fc.stringMatching(/^[0-9][0-9]{4}0{14}$/),
      mutated,
      validId,
    );
    fc.assert(
      fc.property(candidates, (s) => {
        const valid = isValidReference(s);
        expect(isId(s)).toBe(valid);
        if (valid) {
          expect(parseId(s).id).toBe(s);
        } else {
          expect(() => parseId(s)).toThrow(InvalidIdError);
          expect(() => microshardOfId(s)).toThrow(InvalidIdError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isWellFormedId (the hot-path scan)", () => {
  it("agrees with the ID pattern on arbitrary and near-valid strings", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[0-9]{17,21}$/),
          fc.stringMatching(/^[1-8][0-9]{4}0{14}$/),
          fc.stringMatching(/^[0-9 a+e-]{19}$/),
        ),
        (s) => {
          expect(isWellFormedId(s)).toBe(ID_PATTERN.test(s));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
