import { describe, expect, it } from "vitest";
import {
  countStatement,
  deleteStatement,
  insertStatement,
  selectStatement,
  type TableRef,
  updateStatement,
} from "./ent-sql.js";
import type { FieldMeta } from "./field-meta.js";

const ref: TableRef = {
  entity: "Topic",
  table: "topics",
  fields: new Map<string, FieldMeta>(
    (
      [
        ["id", "id", "id"],
        ["workspaceId", "workspace_id", "id"],
        ["title", "title", "string"],
        ["meta", "meta", "json"],
        ["createdAt", "created_at", "date"],
      ] as const
    ).map(([field, column, kind]) => [field, { field, column, kind, nullable: false }]),
  ),
};

describe("statements", () => {
  it("select: schema-qualified, ordered, limit bound; C collation only for merges", () => {
    const order = [
      { field: "title", direction: "desc" as const },
      { field: "id", direction: "asc" as const },
    ];
    expect(
      selectStatement(ref, 3, { where: { workspaceId: "1000300000000000001" }, order, limit: 10 }),
    ).toEqual({
      sql: 'SELECT t.* FROM sh0003."topics" t WHERE t."workspace_id" = $1 ORDER BY t."title" DESC, t."id" ASC LIMIT $2',
      params: ["1000300000000000001", 10],
    });
    expect(
      selectStatement(ref, 3, { where: {}, order, limit: 5, afterId: "7", bytewiseText: true }).sql,
    ).toBe(
      'SELECT t.* FROM sh0003."topics" t WHERE (TRUE) AND t."id" > $1 ORDER BY t."title" COLLATE "C" DESC, t."id" ASC LIMIT $2',
    );
  });

  it("count", () => {
    expect(countStatement(ref, 0, { title: "a" })).toEqual({
      sql: 'SELECT count(*) AS n FROM sh0000."topics" t WHERE t."title" = $1',
      params: ["a"],
    });
  });

  it("insert with ON CONFLICT: nothing, or an upsert of the non-key columns", () => {
    expect(insertStatement(ref, 2, { title: "a", meta: [1] }, { kind: "nothing" })).toEqual({
      sql: 'INSERT INTO sh0002."topics" AS t ("title", "meta") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING t.*, (t.xmax = 0) AS "__inserted"',
      params: ["a", "[1]"],
    });
    expect(
      insertStatement(
        ref,
        2,
        { workspaceId: "1", title: "a" },
        { kind: "update", key: ["workspaceId", "title"] },
      ).sql,
    ).toBe(
      'INSERT INTO sh0002."topics" AS t ("workspace_id", "title") VALUES ($1, $2) ON CONFLICT ("workspace_id", "title") DO UPDATE SET "workspace_id" = EXCLUDED."workspace_id" RETURNING t.*, (t.xmax = 0) AS "__inserted"',
    );
  });

  it("update with an expected-values condition, and delete", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(updateStatement(ref, 5, "9", { title: "b", createdAt: at }, { title: "a" })).toEqual({
      sql: 'UPDATE sh0005."topics" AS t SET "title" = $2, "created_at" = $3 WHERE t."id" = $1 AND (t."title" = $4) RETURNING t.*',
      params: ["9", "b", "2026-01-01T00:00:00.000Z", "a"],
    });
    expect(updateStatement(ref, 5, "9", {}, undefined).sql).toBe(
      'UPDATE sh0005."topics" AS t SET "id" = t."id" WHERE t."id" = $1 RETURNING t.*',
    );
    expect(deleteStatement(ref, 5, "9")).toEqual({
      sql: 'DELETE FROM sh0005."topics" AS t WHERE t."id" = $1 RETURNING t.*',
      params: ["9"],
    });
  });
});
