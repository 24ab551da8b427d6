import { describe, expect, it } from "vitest";
import { type FieldKind, fromDb } from "./field-kind.js";
import type { FieldMeta } from "./field-meta.js";
import { rowParser } from "./row-codec.js";

function metas(list: [string, string, FieldKind][]): Map<string, FieldMeta> {
  return new Map(
    list.map(([field, column, kind]) => [field, { field, column, kind, nullable: true }]),
  );
}

describe("rowParser", () => {
  const fields = metas([
    ["id", "id", "id"],
    ["title", "title", "string"],
    ["score", "score", "number"],
    ["size", "size", "bigint"],
    ["createdAt", "created_at", "date"],
    ["done", "done", "boolean"],
    ["meta", "meta", "json"],
  ]);
  const parse = rowParser<Record<string, unknown>>(fields);

  it("converts each field by its kind, keys in field order, other columns dropped", () => {
    const when = new Date("2026-01-02T03:04:05Z");
    const row = parse({
      id: 1000100000000000001n,
      title: "t",
      score: "1.5",
      size: "9007199254740993",
      created_at: when,
      done: false,
      meta: { a: [1] },
      __microshard: 3,
    });
    expect(row).toEqual({
      id: "1000100000000000001",
      title: "t",
      score: 1.5,
      size: 9007199254740993n,
      createdAt: when,
      done: false,
      meta: { a: [1] },
    });
    expect(Object.keys(row)).toEqual([...fields.keys()]);
    expect(parse({ created_at: "2026-01-02T03:04:05Z", score: 2, size: 3n }).createdAt).toEqual(
      when,
    );
  });

  it("reads null and missing columns as null, like fromDb", () => {
    const row = parse({ id: "1", title: null });
    for (const meta of fields.values()) {
      expect(row[meta.field]).toBe(meta.field === "id" ? "1" : null);
      expect(fromDb(meta.kind, undefined)).toBeNull();
      expect(fromDb(meta.kind, null)).toBeNull();
    }
  });

  it("writes names as data, never as code", () => {
    const odd = rowParser<Record<string, unknown>>(
      metas([
        ["__proto__", "p", "string"],
        ['a"); throw 1; ("', 'b"]', "number"],
      ]),
    );
    const row = odd({ p: "x", 'b"]': "4" });
    expect(Object.hasOwn(row, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe("x");
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row['a"); throw 1; ("']).toBe(4);
  });
});
