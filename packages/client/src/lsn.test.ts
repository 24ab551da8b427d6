import { ArchipelagoError } from "@archipelago/topology";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatLsn, InvalidLsnError, parseLsn } from "./lsn.js";

describe("parseLsn", () => {
  it.each([
    ["0/0", 0n],
    ["0/1", 1n],
    ["1/0", 1n << 32n],
    ["16/B374D848", (0x16n << 32n) | 0xb374d848n],
    ["16/b374d848", (0x16n << 32n) | 0xb374d848n],
    ["0/3000060", 0x3000060n],
    ["FFFFFFFF/FFFFFFFF", (1n << 64n) - 1n],
    ["00000001/00000002", (1n << 32n) | 2n],
  ])("%s", (text, lsn) => {
    expect(parseLsn(text)).toBe(lsn);
  });

  it("orders positions numerically where strings would not", () => {
    expect(parseLsn("9/0") < parseLsn("10/0")).toBe(true);
    expect(parseLsn("0/FFFFFFFF") < parseLsn("1/0")).toBe(true);
  });

  it.each([
    "",
    "16",
    "16/",
    "/B374D848",
    "16/B374D848/1",
    "123456789/0",
    "0/123456789",
    " 16/B374D848",
    "16/B374D848 ",
    "16 /B374D848",
    "-1/0",
    "+1/0",
    "0x16/B374D848",
    "16/B374D84G",
    "16\\B374D848",
    "16/B374D848\n",
  ])("rejects %j with InvalidLsnError", (text) => {
    expect(() => parseLsn(text)).toThrow(InvalidLsnError);
  });

  it("is an ArchipelagoError with code INVALID_LSN that names the input", () => {
    const error = (() => {
      try {
        parseLsn("nope");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ArchipelagoError);
    expect(error).toMatchObject({ code: "INVALID_LSN", input: "nope" });
    expect((error as InvalidLsnError).toJSON()).toMatchObject({
      code: "INVALID_LSN",
      name: "InvalidLsnError",
      input: "nope",
    });
  });

  it("rejects non-strings from untyped callers", () => {
    for (const value of [undefined, null, 5, 5n, {}]) {
      expect(() => parseLsn(value as unknown as string)).toThrow(InvalidLsnError);
    }
  });
});

describe("formatLsn", () => {
  it.each([
    [0n, "0/0"],
    [(0x16n << 32n) | 0xb374d848n, "16/B374D848"],
    [0x3000060n, "0/3000060"],
    [1n << 32n, "1/0"],
    [(1n << 64n) - 1n, "FFFFFFFF/FFFFFFFF"],
  ])("%s → %s", (lsn, text) => {
    expect(formatLsn(lsn)).toBe(text);
  });

  it("rejects positions outside 0..2^64-1", () => {
    expect(() => formatLsn(-1n)).toThrow(InvalidLsnError);
    expect(() => formatLsn(1n << 64n)).toThrow(InvalidLsnError);
    expect(() => formatLsn(5 as unknown as bigint)).toThrow(InvalidLsnError);
  });

  it("is the inverse of parseLsn", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (lsn) => {
        const text = formatLsn(lsn);
        expect(text).toMatch(/^(0|[1-9A-F][0-9A-F]{0,7})\/(0|[1-9A-F][0-9A-F]{0,7})$/);
        expect(parseLsn(text)).toBe(lsn);
      }),
    );
  });

  it("canonicalises any accepted spelling", () => {
    const hex = fc.stringMatching(/^[0-9a-fA-F]{1,8}$/);
    fc.assert(
      fc.property(hex, hex, (high, low) => {
        const lsn = parseLsn(`${high}/${low}`);
        expect(formatLsn(lsn)).toBe(
          `${BigInt(`0x${high}`).toString(16).toUpperCase()}/${BigInt(`0x${low}`).toString(16).toUpperCase()}`,
        );
      }),
    );
  });
});
