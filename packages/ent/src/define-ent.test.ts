import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEnt } from "./define-ent.js";
import { EntDefinitionError } from "./ent-errors.js";
import { idField } from "./field-kind.js";

const base = {
  name: "Thing",
  table: "things",
  privacy: { read: [] },
} as const;

describe("defineEnt refuses a wrong definition before any query", () => {
  it.each([
    [
      "a table name that is not an identifier",
      { ...base, table: "things; DROP", fields: {}, shard: "random" },
    ],
    ["an explicit id field", { ...base, fields: { id: z.string() }, shard: "random" }],
    ["a snake_case field", { ...base, fields: { parent_id: idField() }, shard: "random" }],
    [
      "colocation by a non-ID field",
      { ...base, fields: { parentId: z.string() }, shard: { colocate: "parentId" } },
    ],
    [
      "colocation by a nullable ID",
      { ...base, fields: { parentId: idField().nullable() }, shard: { colocate: "parentId" } },
    ],
    [
      "a random key that is not a unique key",
      { ...base, fields: { email: z.string() }, shard: { random: ["email"] } },
    ],
    [
      "a cache on a sharded entity",
      { ...base, fields: {}, shard: "random", cache: { maxAgeMs: 10 } },
    ],
    [
      "a unique key naming an unknown field",
      { ...base, fields: {}, shard: "global", unique: [["nope"]] },
    ],
    [
      "an inverse on a non-ID field",
      { ...base, fields: { authorId: z.string() }, shard: "random", inverses: ["authorId"] },
    ],
    ["missing privacy", { name: "Thing", table: "things", fields: {}, shard: "random" }],
  ])("%s", (_what, config) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong configs, as JavaScript could pass
    expect(() => defineEnt(config as any)).toThrow(EntDefinitionError);
  });

  it("accepts a correct definition", () => {
    const e = defineEnt({
      ...base,
      fields: { parentId: idField(), email: z.string() },
      shard: { colocate: "parentId" },
      unique: [["email"]],
      inverses: ["parentId"],
    });
    expect(e.affinity).toBe("colocate");
  });
});
