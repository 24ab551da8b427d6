import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidMicroshardError } from "./errors.js";
import {
  GLOBAL_MICROSHARD,
  isMicroshardSchema,
  MAX_MICROSHARD,
  microshardNumber,
  microshardSchema,
  parseMicroshardSchema,
} from "./microshard.js";

describe("microshard numbers and schema names", () => {
  it("names schemas with four digits", () => {
    expect(microshardSchema(42)).toBe("sh0042");
    expect(microshardSchema(GLOBAL_MICROSHARD)).toBe("sh0000");
    expect(microshardSchema(MAX_MICROSHARD)).toBe("sh9999");
    expect(parseMicroshardSchema("sh0042")).toBe(42);
  });

  it.each([-1, 10000, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects number %s", (n) => {
    expect(() => microshardNumber(n)).toThrow(InvalidMicroshardError);
    expect(() => microshardSchema(n)).toThrow(InvalidMicroshardError);
  });

  it.each(["sh42", "sh00042", "SH0042", " sh0042", "sh0042 ", "sh-001", "sh+042", "public", ""])(
    "rejects schema %j",
    (name) => {
      expect(isMicroshardSchema(name)).toBe(false);
      expect(() => parseMicroshardSchema(name)).toThrow(InvalidMicroshardError);
    },
  );

  it("round-trips every number and every canonical name", () => {
    fc.assert(
      fc.property(fc.integer({ min: GLOBAL_MICROSHARD, max: MAX_MICROSHARD }), (n) => {
        const schema = microshardSchema(n);
        expect(isMicroshardSchema(schema)).toBe(true);
        expect(parseMicroshardSchema(schema)).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^sh[0-9]{4}$/), (name) => {
        expect(microshardSchema(parseMicroshardSchema(name))).toBe(name);
      }),
    );
  });

  it("accepts no other string as a schema name", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!/^sh[0-9]{4}$/.test(s));
        expect(isMicroshardSchema(s)).toBe(false);
        expect(() => parseMicroshardSchema(s)).toThrow(InvalidMicroshardError);
      }),
    );
  });
});
