import type { Cluster, Session } from "@archipelago/client";
import { describe, expect, it } from "vitest";
import { Viewer } from "./viewer.js";

// Viewers only ask the cluster for a new session.
const cluster = { session: () => ({ size: 0 }) as unknown as Session } as unknown as Cluster;
const row = Promise.resolve({ id: "1" });

describe("the viewer's query cache", () => {
  it("keeps loads per entity until the viewer writes to that entity", () => {
    const vc = Viewer.of(cluster, "u1");
    vc.cacheOf("Topic")?.set("id:1", row);
    vc.cacheOf("User")?.set("id:1", row);
    expect(vc.cacheOf("Topic")?.get("id:1")).toBe(row);
    vc.invalidate("Topic");
    expect(vc.cacheOf("Topic")?.get("id:1")).toBeUndefined();
    expect(vc.cacheOf("User")?.get("id:1")).toBe(row);
  });

  it("serves nothing older than its TTL", async () => {
    const vc = Viewer.of(cluster, "u1", { cacheTtlMs: 20 });
    vc.cacheOf("Topic")?.set("id:1", row);
    expect(vc.cacheOf("Topic")?.get("id:1")).toBe(row);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(vc.cacheOf("Topic")?.get("id:1")).toBeUndefined();
  });

  it("is bounded, shared with the omni twin, and off with cacheMax 0", () => {
    const vc = Viewer.of(cluster, "u1", { cacheMax: 2 });
    for (const k of ["a", "b", "c"]) vc.cacheOf("Topic")?.set(k, row);
    expect(vc.cacheOf("Topic")?.size).toBe(2);
    const omni = vc.toOmni();
    expect(omni.isOmni).toBe(true);
    expect(omni.session).toBe(vc.session);
    expect(omni.cacheOf("Topic")).toBe(vc.cacheOf("Topic"));
    omni.invalidate("Topic");
    expect(vc.cacheOf("Topic")?.size).toBe(0);
    expect(Viewer.omni(cluster, { cacheMax: 0 }).cacheOf("Topic")).toBeUndefined();
  });

  it("drops the least recently used entry first", () => {
    const vc = Viewer.of(cluster, "u1", { cacheMax: 2 });
    const cache = vc.cacheOf("Topic");
    cache?.set("a", row);
    cache?.set("b", row);
    expect(cache?.get("a")).toBe(row); // a is now the most recently used
    cache?.set("c", row);
    expect(cache?.peek("b")).toBeUndefined();
    expect(cache?.peek("a")).toBe(row);
    expect(cache?.peek("c")).toBe(row);
    cache?.set("a", row); // a again; c is the oldest
    cache?.set("d", row);
    expect(cache?.peek("c")).toBeUndefined();
    expect(cache?.size).toBe(2);
  });

  it("refuses an empty principal", () => {
    expect(() => Viewer.of(cluster, "")).toThrow(TypeError);
  });
});
