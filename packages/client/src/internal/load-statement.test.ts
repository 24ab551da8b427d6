import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  groupByMicroshard,
  indexMarkedRows,
  LoadStatements,
  loadStatementText,
  MICROSHARD_COLUMN,
  RowCopiers,
  rowCopier,
} from "./load-statement.js";

const request = (microshard: number, value: unknown) => ({ microshard, value });

describe("groupByMicroshard", () => {
  it("keeps one group for a single-microshard batch, values aligned with their indexes", () => {
    const requests = [request(3, "a"), request(3, "b"), request(3, "a")];
    expect(groupByMicroshard(requests, [0, 1, 2])).toEqual([
      { microshard: 3, indexes: [0, 1, 2], values: ["a", "b", "a"] },
    ]);
  });

  it("groups interleaved microshards in order of first appearance, only the given indexes", () => {
    const requests = [request(7, 1), request(3, 2), request(7, 3), request(3, 4), request(9, 5)];
    expect(groupByMicroshard(requests, [0, 1, 2, 3])).toEqual([
      { microshard: 7, indexes: [0, 2], values: [1, 3] },
      { microshard: 3, indexes: [1, 3], values: [2, 4] },
    ]);
  });

  it("puts every index in exactly one group, that of its microshard, in the given order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ microshard: fc.integer({ min: 0, max: 5 }), value: fc.nat() }), {
          minLength: 1,
        }),
        (requests) => {
          const indexes = requests.map((_, i) => i).filter((i) => i % 3 !== 1);
          const groups = groupByMicroshard(requests, indexes);
          expect(new Set(groups.map((g) => g.microshard)).size).toBe(groups.length);
          const seen = groups.flatMap((g) => g.indexes).sort((a, b) => a - b);
          expect(seen).toEqual(indexes);
          for (const g of groups) {
            expect(g.indexes).toEqual([...g.indexes].sort((a, b) => a - b));
            g.indexes.forEach((index, i) => {
              expect(requests[index]?.microshard).toBe(g.microshard);
              expect(g.values[i]).toBe(requests[index]?.value);
            });
          }
        },
      ),
    );
  });
});

describe("loadStatementText", () => {
  it("reads one microshard with a plain, unmarked SELECT", () => {
    expect(loadStatementText("users", "id", [3])).toBe(
      'SELECT t.* FROM sh0003."users" t WHERE t."id" = ANY($1)',
    );
  });

  it("unions one marked SELECT per microshard, one parameter each, and quotes identifiers", () => {
    expect(loadStatementText('we"ird', "e-mail", [3, 12])).toBe(
      `SELECT 3 AS "${MICROSHARD_COLUMN}", t.* FROM sh0003."we""ird" t WHERE t."e-mail" = ANY($1)` +
        "\nUNION ALL\n" +
        `SELECT 12 AS "${MICROSHARD_COLUMN}", t.* FROM sh0012."we""ird" t WHERE t."e-mail" = ANY($2)`,
    );
  });
});

describe("LoadStatements", () => {
  it("returns the text loadStatementText builds, cached per (table, column, microshards)", () => {
    const statements = new LoadStatements();
    const shapes: [string, string, number[]][] = [
      ["users", "id", [3]],
      ["users", "email", [3]],
      ["posts", "id", [3]],
      ["users", "id", [3, 7]],
      ["users", "id", [37]],
      ["users", "id", [3, 7]],
      ["users", "id", [3]],
    ];
    for (const [table, column, microshards] of shapes) {
      expect(statements.text(table, column, microshards)).toBe(
        loadStatementText(table, column, microshards),
      );
    }
    expect(statements.size).toBe(5);
  });

  it("does not confuse shapes whose parts would run together in one key", () => {
    const statements = new LoadStatements();
    const shapes: [string, string, number[]][] = [
      ["a,b", "c", [1]],
      ["a", "b,c", [1]],
      ["a\u0000b", "c", [0]],
      ["a", "b\u0000c", [0]],
      ["a", "b", [0, 5]],
      ["a", "b\u0000", [5]],
      ["a", "b", [1, 2]],
      ["a", "b", [258]],
    ];
    for (const [table, column, microshards] of shapes) {
      expect(statements.text(table, column, microshards)).toBe(
        loadStatementText(table, column, microshards),
      );
    }
    expect(statements.size).toBe(shapes.length);
  });

  it("stays bounded: past its capacity it starts over", () => {
    const statements = new LoadStatements(4);
    for (let m = 1; m <= 10; m++) {
      expect(statements.text("t", "id", [m])).toBe(loadStatementText("t", "id", [m]));
      expect(statements.size).toBeLessThanOrEqual(4);
    }
  });
});

describe("indexMarkedRows", () => {
  it("files each row under its microshard and value as text, without the marker", () => {
    const rows = [
      { [MICROSHARD_COLUMN]: 3, id: "1000300000000000001", n: 1 },
      { [MICROSHARD_COLUMN]: 7, id: "1000700000000000001", n: 2 },
      { [MICROSHARD_COLUMN]: 3, id: "1000300000000000002", n: 3 },
      { [MICROSHARD_COLUMN]: 7, id: 5, n: 4 },
    ];
    const found = indexMarkedRows(rows, "id", rowCopier([MICROSHARD_COLUMN, "id", "n"]));
    expect([...found.keys()]).toEqual([3, 7]);
    expect(found.get(3)?.get("1000300000000000002")).toEqual({ id: "1000300000000000002", n: 3 });
    expect(found.get(7)?.get("1000700000000000001")).toEqual({ id: "1000700000000000001", n: 2 });
    expect(found.get(7)?.get("5")).toEqual({ id: 5, n: 4 });
    expect(found.get(3)?.get("5")).toBeUndefined();
    for (const byValue of found.values()) {
      for (const row of byValue.values()) expect(MICROSHARD_COLUMN in row).toBe(false);
    }
  });

  it("keeps equal values of different microshards apart", () => {
    const found = indexMarkedRows(
      [
        { [MICROSHARD_COLUMN]: 3, email: "a@b", n: 1 },
        { [MICROSHARD_COLUMN]: 7, email: "a@b", n: 2 },
      ],
      "email",
      rowCopier([MICROSHARD_COLUMN, "email", "n"]),
    );
    expect(found.get(3)?.get("a@b")?.n).toBe(1);
    expect(found.get(7)?.get("a@b")?.n).toBe(2);
  });
});

/** What the driver builds for a marked row: the template of every field, then each value in order. */
function driverRow(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const blank = Object.create(null) as Record<string, unknown>;
  for (const name of names) blank[name] = null;
  const row: Record<string, unknown> = { ...blank };
  names.forEach((name, i) => {
    row[name] = values[i];
  });
  return row;
}

/** The copy the rest syntax makes: every own property but the marker. */
function restCopy(row: Record<string, unknown>): Record<string, unknown> {
  const { [MICROSHARD_COLUMN]: _marker, ...rest } = row;
  return rest;
}

describe("rowCopier", () => {
  it("copies a row without its marker: same keys, order and values as a rest copy", () => {
    const names = [MICROSHARD_COLUMN, "id", "n", "payload"];
    const row = driverRow(names, [3, "1000300000000000001", 7, null]);
    const copy = rowCopier(names)(row);
    expect(copy).toEqual(restCopy(row));
    expect(Object.keys(copy)).toEqual(["id", "n", "payload"]);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy).not.toBe(row);
  });

  it("treats any column name as data, never as code", () => {
    const names = [
      MICROSHARD_COLUMN,
      "__proto__",
      'a"b',
      "c\\d",
      "}); process.exit(1); ({",
      "\u2028line",
      "constructor",
      "7",
      "",
      "x",
      "x",
    ];
    const row = driverRow(names, [3, { polluted: true }, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const copy = rowCopier(names)(row);
    expect(copy).toEqual(restCopy(row));
    expect(Object.keys(copy)).toEqual(Object.keys(restCopy(row)));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toEqual({ polluted: true });
    expect(copy.x).toBe(9);
  });

  it("agrees with a rest copy on generated rows", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { maxLength: 8 }),
        fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), {
          minLength: 9,
          maxLength: 9,
        }),
        (columns, values) => {
          const names = [MICROSHARD_COLUMN, ...columns];
          const row = driverRow(names, [5, ...values]);
          const copy = rowCopier(names)(row);
          expect(copy).toEqual(restCopy(row));
          expect(Object.keys(copy)).toEqual(Object.keys(restCopy(row)));
        },
      ),
    );
  });
});

describe("RowCopiers", () => {
  it("keeps one copier per column list", () => {
    const copiers = new RowCopiers(2);
    const a = [{ name: MICROSHARD_COLUMN }, { name: "id" }];
    const b = [{ name: MICROSHARD_COLUMN }, { name: "id" }, { name: "n" }];
    expect(copiers.for(a)).toBe(copiers.for([...a]));
    expect(copiers.for(b)).not.toBe(copiers.for(a));
    expect(copiers.for(b)({ [MICROSHARD_COLUMN]: 1, id: "x", n: 2 })).toEqual({ id: "x", n: 2 });
    copiers.for([{ name: MICROSHARD_COLUMN }, { name: "other" }]); // past capacity: starts over
    expect(copiers.for(a)({ [MICROSHARD_COLUMN]: 1, id: "y" })).toEqual({ id: "y" });
  });
});
