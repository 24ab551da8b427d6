import { describe, expect, it } from "vitest";
import { columnName } from "./column-name.js";
import { evaluateRead, evaluateWrite, type ReadRule, type WriteRule } from "./privacy-rules.js";
import type { Viewer } from "./viewer.js";

const as = (principal: string | null, isOmni = false) => ({ principal, isOmni }) as Viewer;
type Row = { ownerId: string; hidden: boolean };

describe("read rules", () => {
  const calls: string[] = [];
  const seen = (name: string, result: boolean) => {
    calls.push(name);
    return result;
  };
  const rules: ReadRule<Row>[] = [
    { name: "hidden", denyIf: (_vc, row) => seen("hidden", row.hidden) },
    { name: "owner", allowIf: async (vc, row) => seen("owner", vc.principal === row.ownerId) },
    { name: "never", allowIf: () => seen("never", false) },
  ];

  it("the first rule that decides wins, and later rules do not run", async () => {
    calls.length = 0;
    expect(await evaluateRead(rules, as("u1"), { ownerId: "u1", hidden: true })).toEqual({
      allowed: false,
      reason: "denied by hidden",
    });
    expect(calls).toEqual(["hidden"]);
    calls.length = 0;
    expect(await evaluateRead(rules, as("u1"), { ownerId: "u1", hidden: false })).toEqual({
      allowed: true,
      reason: "owner",
    });
    expect(calls).toEqual(["hidden", "owner"]);
  });

  it("no decision denies; omni skips every rule", async () => {
    expect((await evaluateRead(rules, as("u2"), { ownerId: "u1", hidden: false })).allowed).toBe(
      false,
    );
    expect((await evaluateRead([], as("u2"), { ownerId: "u1", hidden: false })).allowed).toBe(
      false,
    );
    expect(
      (await evaluateRead(rules, as(null, true), { ownerId: "u1", hidden: true })).allowed,
    ).toBe(true);
  });
});

describe("write rules", () => {
  const rules: WriteRule<Row>[] = [
    { name: "owner", require: (vc, row) => vc.principal === row.ownerId },
    { require: (_vc, row) => !row.hidden },
  ];

  it("all must pass; the first failing one is named", async () => {
    expect((await evaluateWrite(rules, as("u1"), { ownerId: "u1", hidden: false })).allowed).toBe(
      true,
    );
    expect(await evaluateWrite(rules, as("u1"), { ownerId: "u1", hidden: true })).toEqual({
      allowed: false,
      reason: "refused by write rule 1",
    });
    expect((await evaluateWrite(rules, as("u2"), { ownerId: "u1", hidden: false })).reason).toBe(
      "refused by owner",
    );
  });

  it("an entity without write rules is written by the omni viewer only", async () => {
    expect((await evaluateWrite([], as("u1"), { ownerId: "u1", hidden: false })).allowed).toBe(
      false,
    );
    expect(
      (await evaluateWrite([], as(null, true), { ownerId: "u1", hidden: false })).allowed,
    ).toBe(true);
  });
});

it("columnName maps camelCase to snake_case", () => {
  expect(columnName("workspaceId")).toBe("workspace_id");
  expect(columnName("createdAt")).toBe("created_at");
  expect(columnName("id")).toBe("id");
});
