import { formatId, isWellFormedId, MAX_MICROSHARD, microshardOfId } from "@archipelago/topology";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { microshardDigits } from "./microshard-digits.js";

describe("microshardDigits", () => {
  it("reads the microshard of a well-formed ID as microshardOfId does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: MAX_MICROSHARD }),
        fc.bigInt({ min: 1n, max: 10n ** 14n - 1n }),
        (environment, microshard, sequence) => {
          const id = formatId({ environment, microshard, sequence });
          expect(isWellFormedId(id)).toBe(true);
          expect(microshardDigits(id)).toBe(microshard);
          expect(microshardDigits(id)).toBe(microshardOfId(id));
        },
      ),
    );
  });

  it("reads the edges", () => {
    expect(microshardDigits("1000000000000000001")).toBe(0);
    expect(microshardDigits("8999999999999999999")).toBe(9999);
    expect(microshardDigits("1004200000000000007")).toBe(42);
  });
});
