import { describe, expect, it } from "vitest";
import { compileWhere } from "./compile-where.js";
import { EntQueryError } from "./ent-errors.js";
import type { FieldMeta } from "./field-meta.js";

const fields = new Map<string, FieldMeta>(
  (
    [
      ["id", "id", "id", false],
      ["title", "title", "string", false],
      ["score", "score", "number", false],
      ["closedAt", "closed_at", "date", true],
      ["views", "views", "bigint", false],
      ["done", "done", "boolean", false],
      ["meta", "meta", "json", false],
      ['we"ird', 'we"ird', "string", false],
    ] as const
  ).map(([field, column, kind, nullable]) => [field, { field, column, kind, nullable }]),
);

function compile(where: Record<string, unknown>) {
  const params: unknown[] = [];
  return { sql: compileWhere("Topic", fields, where, params), params };
}

describe("compileWhere", () => {
  it("binds every value and quotes every column", () => {
    expect(compile({ title: "a", score: { gte: 1, lt: 5 }, views: 7n })).toEqual({
      sql: 't."title" = $1 AND (t."score" >= $2 AND t."score" < $3) AND t."views" = $4',
      params: ["a", 1, 5, "7"],
    });
    expect(compile({ 'we"ird': "x" }).sql).toBe('t."we""ird" = $1');
  });

  it("null, isNull, ne and in follow JavaScript's meaning", () => {
    expect(compile({ closedAt: null }).sql).toBe('t."closed_at" IS NULL');
    expect(compile({ closedAt: { isNull: false } }).sql).toBe('t."closed_at" IS NOT NULL');
    expect(compile({ title: { ne: "a" } })).toEqual({
      sql: 't."title" IS DISTINCT FROM $1',
      params: ["a"],
    });
    const [a, b] = ["1000100000000000001", "1000200000000000002"];
    expect(compile({ id: { in: [a, b] } })).toEqual({
      sql: 't."id" = ANY($1)',
      params: [[a, b]],
    });
    expect(compile({ id: { in: [] } }).sql).toBe("FALSE");
    const d = new Date("2026-01-01T00:00:00Z");
    expect(compile({ closedAt: d }).params).toEqual(["2026-01-01T00:00:00.000Z"]);
  });

  it("nests $and, $or and $not", () => {
    expect(
      compile({
        $or: [{ title: "a" }, { $and: [{ score: 1 }, { done: true }] }],
        $not: { score: 2 },
      }),
    ).toEqual({
      sql: '(t."title" = $1 OR (t."score" = $2 AND t."done" = $3)) AND NOT (t."score" = $4)',
      params: ["a", 1, true, 2],
    });
    expect(compile({}).sql).toBe("TRUE");
    expect(compile({ $or: [] }).sql).toBe("FALSE");
  });

  it("refuses what it does not understand instead of ignoring it", () => {
    for (const where of [
      { nope: 1 },
      { meta: { a: 1 } },
      { title: { like: "a%" } },
      { score: "1" },
      { score: Number.NaN },
      { views: 1 },
      { done: { gt: true } },
      { title: { in: "a" } },
      { closedAt: { isNull: "yes" } },
      { $or: { title: "a" } },
      { id: "12345" },
      { id: { in: ["1000100000000000001", "x"] } },
    ]) {
      expect(() => compile(where), JSON.stringify(where)).toThrow(EntQueryError);
    }
  });
});
