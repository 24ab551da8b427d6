import type { Cluster } from "@archipelago/client";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { allowAll, dbDefault, defineEnt, type EntRow, idField, Viewer } from "../src/index.js";

const Topic = defineEnt({
  name: "Topic",
  table: "topics",
  fields: {
    workspaceId: idField(),
    authorId: idField(),
    title: z.string(),
    status: z.enum(["open", "closed"]),
    score: z.number().int(),
    views: z.bigint(),
    meta: z.object({ tags: z.array(z.string()) }),
    closedAt: z.date().nullable(),
    createdAt: dbDefault(z.date()),
  },
  shard: { colocate: "workspaceId" },
  unique: [["workspaceId", "title"]],
  privacy: {
    read: [
      allowAll,
      // The row is typed from the fields, inline.
      { allowIf: (vc, row) => row.authorId === vc.principal && row.closedAt === null },
    ],
    write: [{ name: "author", require: (vc, row) => row.authorId === vc.principal }],
  },
  triggers: {
    beforeUpdate: [
      (_vc, { changes, changed }) => {
        expectTypeOf(changed).toEqualTypeOf<
          readonly (
            | "workspaceId"
            | "authorId"
            | "title"
            | "status"
            | "score"
            | "views"
            | "meta"
            | "closedAt"
            | "createdAt"
          )[]
        >();
        // The colocation field cannot be changed.
        // @ts-expect-error workspaceId is not part of the update input
        changes.workspaceId;
        return { score: 1 };
      },
    ],
  },
});

declare const cluster: Cluster;
const vc = Viewer.of(cluster, "1000100000000000001");

describe("inferred types", () => {
  it("rows have typed fields and a string id", () => {
    type Row = EntRow<typeof Topic>;
    expectTypeOf<Row["id"]>().toEqualTypeOf<string>();
    expectTypeOf<Row["status"]>().toEqualTypeOf<"open" | "closed">();
    expectTypeOf<Row["views"]>().toEqualTypeOf<bigint>();
    expectTypeOf<Row["closedAt"]>().toEqualTypeOf<Date | null>();
    expectTypeOf<Row["createdAt"]>().toEqualTypeOf<Date>();
    expectTypeOf<Row["meta"]>().toEqualTypeOf<{ tags: string[] }>();
    expectTypeOf(Topic.load(vc, "x")).resolves.toEqualTypeOf<Row>();
    expectTypeOf(Topic.loadNullable(vc, "x")).resolves.toEqualTypeOf<Row | null>();
  });

  it("insert needs every field without a default and returns the ID", () => {
    const input = {
      workspaceId: "1",
      authorId: "1",
      title: "t",
      status: "open",
      score: 1,
      views: 1n,
      meta: { tags: [] },
    } as const;
    expectTypeOf(
      Topic.insert(vc, { ...input, meta: { tags: [] } }),
    ).resolves.toEqualTypeOf<string>();
    // @ts-expect-error title is required
    Topic.insert(vc, { ...input, title: undefined, meta: { tags: [] } });
    // @ts-expect-error wrong enum value
    Topic.insert(vc, { ...input, status: "archived", meta: { tags: [] } });
    // @ts-expect-error numbers are not bigints
    Topic.insert(vc, { ...input, views: 1, meta: { tags: [] } });
    // @ts-expect-error unknown field
    Topic.insert(vc, { ...input, meta: { tags: [] }, titel: "x" });
    // @ts-expect-error the id is generated, never given
    Topic.insert(vc, { ...input, meta: { tags: [] }, id: "1000100000000000001" });
  });

  it("updates are partial and cannot move a row to another microshard", () => {
    Topic.update(vc, "1", { title: "new" });
    Topic.update(vc, "1", { closedAt: null }, { expect: { score: 3 } });
    // @ts-expect-error the colocation field decides the microshard
    Topic.update(vc, "1", { workspaceId: "2" });
    // @ts-expect-error wrong type
    Topic.update(vc, "1", { score: "3" });
  });

  it("where clauses allow operators by field type", () => {
    Topic.select(vc, {
      where: {
        workspaceId: "1",
        score: { gte: 1, lt: 5 },
        status: { in: ["open"] },
        closedAt: { isNull: true },
        $or: [{ title: "a" }, { title: { ne: "b" } }],
        $not: { authorId: "2" },
      },
      order: [["createdAt", "desc"], "score"],
      limit: 10,
    });
    // @ts-expect-error limit is required
    Topic.select(vc, { where: { workspaceId: "1" } });
    // @ts-expect-error isNull only on nullable fields
    Topic.select(vc, { where: { score: { isNull: true } }, limit: 1 });
    // @ts-expect-error JSON fields cannot be filtered on
    Topic.select(vc, { where: { meta: { tags: [] } }, limit: 1 });
    // @ts-expect-error wrong value type
    Topic.select(vc, { where: { score: "1" }, limit: 1 });
    // @ts-expect-error unknown field
    Topic.select(vc, { where: { nope: 1 }, limit: 1 });
    // @ts-expect-error cannot order by JSON
    Topic.select(vc, { where: {}, order: ["meta"], limit: 1 });
  });

  it("loadBy takes exactly a unique key", () => {
    Topic.loadBy(vc, { workspaceId: "1", title: "t" });
    // @ts-expect-error not a unique key
    Topic.loadBy(vc, { title: "t" });
  });

  it("rejects a colocation field that is not a field", () => {
    defineEnt({
      name: "Bad",
      table: "bad",
      fields: { parentId: idField() },
      // @ts-expect-error unknown colocation field
      shard: { colocate: "parent" },
      privacy: { read: [] },
    });
  });
});
