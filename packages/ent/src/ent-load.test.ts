import type { Cluster, Session } from "@archipelago/client";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEnt } from "./define-ent.js";
import { EntNotFoundError, EntNotReadableError } from "./ent-errors.js";
import { Viewer } from "./viewer.js";

const Note = defineEnt({
  name: "Note",
  table: "notes",
  fields: { owner: z.string(), n: z.number().int() },
  shard: "random",
  privacy: { read: [{ name: "owner", allowIf: (vc, row) => vc.principal === row.owner }] },
});

const ID = "1000100000000000001";
const OTHER = "1000100000000000002";

/** A cluster of one microshard whose loads answer from `rows`, or fail while `failing` is set. */
function fakeCluster(rows: Record<string, Record<string, unknown>>) {
  const state = { loads: 0, failing: false };
  const shard = {
    microshard: 1,
    load: (_table: string, _column: string, id: string) => {
      state.loads++;
      return state.failing
        ? Promise.reject(new Error("connection lost"))
        : Promise.resolve(rows[id] === undefined ? undefined : { ...rows[id], id });
    },
  };
  const cluster = {
    session: () => ({ size: 0 }) as unknown as Session,
    shardOf: (id: unknown) => {
      if (typeof id !== "string" || !/^\d{19}$/.test(id)) throw new TypeError(`bad ID ${id}`);
      return shard;
    },
  } as unknown as Cluster;
  return { cluster, state };
}

describe("loads by ID through the viewer's cache", () => {
  it("share one load per ID, parse the row, and apply read rules per call", async () => {
    const { cluster, state } = fakeCluster({ [ID]: { owner: "u1", n: "7", extra: 1 } });
    const vc = Viewer.of(cluster, "u1");
    const [a, b, c] = await Promise.all([
      Note.load(vc, ID),
      Note.loadNullable(vc, ID),
      Note.load(vc.toOmni(), ID),
    ]);
    expect(state.loads).toBe(1);
    expect(a).toEqual({ id: ID, owner: "u1", n: 7 });
    expect(b).toBe(a);
    expect(c).toBe(a);
    await expect(Note.load(Viewer.of(cluster, "u2"), ID)).rejects.toBeInstanceOf(
      EntNotReadableError,
    );
    await expect(Note.load(vc, OTHER)).rejects.toBeInstanceOf(EntNotFoundError);
    expect(await Note.loadNullable(vc, OTHER)).toBeNull();
  });

  it("keep no failed load: the next load tries again", async () => {
    const { cluster, state } = fakeCluster({ [ID]: { owner: "u1", n: 1 } });
    const vc = Viewer.of(cluster, "u1");
    state.failing = true;
    await expect(Note.load(vc, ID)).rejects.toThrow("connection lost");
    await expect(Note.loadNullable(vc, ID)).rejects.toThrow("connection lost");
    await expect(Note.loadNullable(vc.toOmni(), ID)).rejects.toThrow("connection lost");
    expect(state.loads).toBe(3);
    state.failing = false;
    expect((await Note.load(vc, ID)).n).toBe(1);
    expect((await Note.load(vc, ID)).n).toBe(1);
    expect(state.loads).toBe(4);
    await expect(Note.load(vc, "12345")).rejects.toThrow("bad ID");
    expect(vc.cacheOf("Note")?.peek("12345")).toBeUndefined();
  });

  it("start again after the viewer's cache is emptied", async () => {
    const { cluster, state } = fakeCluster({ [ID]: { owner: "u1", n: 1 } });
    const vc = Viewer.of(cluster, "u1");
    await Note.load(vc, ID);
    vc.invalidate("Note");
    await Note.load(vc, ID);
    expect(state.loads).toBe(2);
    const uncached = Viewer.of(cluster, "u1", { cacheMax: 0 });
    await Promise.all([Note.load(uncached, ID), Note.load(uncached, ID)]);
    expect(state.loads).toBe(4);
  });
});
