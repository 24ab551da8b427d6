import { describe, expect, it } from "vitest";
import { compareStrings, mergeOrdered } from "./merge-ordered.js";

describe("mergeOrdered", () => {
  it("merges per-microshard pages into the global first page", () => {
    const a = [
      { id: "1000100000000000001", score: 9 },
      { id: "1000100000000000002", score: 5 },
    ];
    const b = [
      { id: "1000200000000000001", score: 7 },
      { id: "1000200000000000003", score: 5 },
    ];
    const merged = mergeOrdered(
      [a, b],
      [
        { field: "score", direction: "desc" },
        { field: "id", direction: "asc" },
      ],
      3,
    );
    expect(merged.map((r) => r.id)).toEqual([
      "1000100000000000001",
      "1000200000000000001",
      "1000100000000000002",
    ]);
  });

  it("orders NULLs last ascending and first descending, dates by time", () => {
    const rows = [{ d: null }, { d: new Date(2) }, { d: new Date(1) }];
    expect(mergeOrdered([rows], [{ field: "d", direction: "asc" }], 3).map((r) => r.d)).toEqual([
      new Date(1),
      new Date(2),
      null,
    ]);
    expect(mergeOrdered([rows], [{ field: "d", direction: "desc" }], 3)[0]?.d).toBeNull();
  });

  it('compares strings by UTF-8 bytes like COLLATE "C"', () => {
    expect(compareStrings("B", "a")).toBeLessThan(0);
    // U+FF5E (3 bytes) sorts before U+1F600 (4 bytes, a surrogate pair in UTF-16) in UTF-8 byte order.
    expect(compareStrings("\uff5e", "\u{1f600}")).toBeLessThan(0);
    expect("\uff5e" < "\u{1f600}").toBe(false); // while JavaScript's code-unit order disagrees
  });
});
