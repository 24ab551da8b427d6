import { describe, expect, it } from "vitest";
import { z } from "zod";
import { dbDefault, fieldKind, fromDb, idField, toDb } from "./field-kind.js";

describe("fieldKind", () => {
  it("reads the kind through nullable, optional and default wrappers", () => {
    expect(fieldKind(z.string())).toEqual({ kind: "string", nullable: false });
    expect(fieldKind(z.enum(["a", "b"]).nullable())).toEqual({ kind: "string", nullable: true });
    expect(fieldKind(z.number().int())).toEqual({ kind: "number", nullable: false });
    expect(fieldKind(z.boolean().default(false))).toEqual({ kind: "boolean", nullable: false });
    expect(fieldKind(z.bigint())).toEqual({ kind: "bigint", nullable: false });
    expect(fieldKind(dbDefault(z.date()))).toEqual({ kind: "date", nullable: false });
    expect(fieldKind(idField().nullable())).toEqual({ kind: "id", nullable: true });
    expect(fieldKind(z.object({ a: z.string() }))).toEqual({ kind: "json", nullable: false });
    expect(fieldKind(z.array(z.number()))).toEqual({ kind: "json", nullable: false });
    // A plain string with the same regex is not an ID field: only idField() makes one.
    expect(fieldKind(z.string().regex(/^\d{19}$/)).kind).toBe("string");
  });

  it("idField accepts IDs and rejects numbers and malformed strings", () => {
    const id = idField();
    expect(id.safeParse("1000300000000000042").success).toBe(true);
    expect(id.safeParse("0000300000000000042").success).toBe(false);
    expect(id.safeParse(1000300000000000).success).toBe(false);
  });
});

describe("fromDb and toDb", () => {
  it("parses what node-postgres returns into the field's type", () => {
    expect(fromDb("bigint", "9007199254740993")).toBe(9007199254740993n);
    expect(fromDb("number", "12.5")).toBe(12.5);
    expect(fromDb("date", "2026-11-22T00:00:00.000Z")).toEqual(new Date("2026-11-22T00:00:00Z"));
    const d = new Date();
    expect(fromDb("date", d)).toBe(d);
    expect(fromDb("id", 1000300000000000042n)).toBe("1000300000000000042");
    expect(fromDb("json", { a: [1] })).toEqual({ a: [1] });
    expect(fromDb("string", null)).toBeNull();
  });

  it("binds JSON as text, bigints as decimal strings, dates as ISO timestamps", () => {
    expect(toDb("json", [1, 2])).toBe("[1,2]");
    expect(toDb("bigint", 12n)).toBe("12");
    expect(toDb("date", new Date("2026-01-02T03:04:05Z"))).toBe("2026-01-02T03:04:05.000Z");
    expect(toDb("json", null)).toBeNull();
  });
});
