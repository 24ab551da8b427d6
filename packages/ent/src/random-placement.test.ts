import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jumpHash, keyHash, placeByKey } from "./random-placement.js";

describe("jumpHash", () => {
  it("stays in range and is deterministic", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 1, max: 5000 }),
        (k, n) => {
          const b = jumpHash(k, n);
          expect(b).toBeGreaterThanOrEqual(0);
          expect(b).toBeLessThan(n);
          expect(jumpHash(k, n)).toBe(b);
        },
      ),
    );
  });

  it("growing the buckets moves keys only into the new buckets", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 1, max: 200 }),
        (k, n) => {
          const before = jumpHash(k, n);
          const after = jumpHash(k, n + 7);
          expect(after === before || after >= n).toBe(true);
        },
      ),
    );
  });

  it("spreads keys evenly", () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[jumpHash(keyHash([`user${i}@example.com`]), 16)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it("rejects a bucket count below 1", () => {
    expect(() => jumpHash(1n, 0)).toThrow(RangeError);
  });
});

describe("placeByKey", () => {
  it("picks the same microshard for the same key, whatever the order of the list", () => {
    const a = placeByKey(["ann@example.com"], [5, 1, 9, 3]);
    expect(placeByKey(["ann@example.com"], [1, 3, 5, 9])).toBe(a);
    expect([1, 3, 5, 9]).toContain(a);
  });

  it("distinguishes value types and keeps dates and bigints stable", () => {
    expect(keyHash(["1"])).not.toBe(keyHash([1]));
    expect(keyHash([1n])).toBe(keyHash([1n]));
    expect(keyHash([new Date(0)])).toBe(keyHash([new Date(0)]));
  });

  it("refuses an empty list", () => {
    expect(() => placeByKey(["x"], [])).toThrow(RangeError);
  });
});
