import type pg from "pg";
import { describe, expect, it } from "vitest";
import { query } from "./query.js";

/** A client whose callback-form `query` answers after a tick with `outcome`, recording its calls. */
function fakeClient(outcome: { error?: unknown; result?: unknown }) {
  const calls: unknown[][] = [];
  const client = {
    query(...args: unknown[]) {
      calls.push(args.slice(0, 2));
      const callback = args[2] as (error: unknown, result: unknown) => void;
      setImmediate(() => callback(outcome.error, outcome.result));
    },
  };
  return { client: client as unknown as pg.ClientBase, calls };
}

describe("query", () => {
  it("resolves with the driver's result, through the callback form, values [] when none", async () => {
    const result = { rows: [{ a: 1 }] };
    const { client, calls } = fakeClient({ result });
    await expect(query(client, "SELECT $1", [1])).resolves.toBe(result);
    await expect(query(client, "SELECT 1")).resolves.toBe(result);
    expect(calls).toEqual([
      ["SELECT $1", [1]],
      ["SELECT 1", []],
    ]);
  });

  it("rejects with the driver's own error, its stack leading back to the caller", async () => {
    const error = Object.assign(new Error("relation does not exist"), { code: "42P01" });
    error.stack = "Error: relation does not exist\n    at Socket.onStreamRead";
    const { client } = fakeClient({ error });
    const caught = await query(client, "SELECT 1").catch((e: unknown) => e);
    expect(caught).toBe(error);
    expect((caught as { code: string }).code).toBe("42P01");
    expect((caught as Error).stack).not.toContain("onStreamRead");
  });
});
