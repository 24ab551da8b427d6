import { microshardOfId } from "@archipelago/topology";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ClientFixture, startClientFixture } from "../../../test/helpers/cluster-fixture.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 1, microshards: 8 });
  await fx.cluster.rediscover();
});

afterAll(async () => {
  await fx?.stop();
});

it("writes 100 concurrent inserts over 8 microshards with one statement per island", async () => {
  const before = fx.queries.length;
  const rows = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      fx.cluster
        .shard((i % 8) + 1)
        .insert<{ id: string; n: number; note: string }>("items", { n: i, note: `row ${i}` }),
    ),
  );
  const events = fx.queries.slice(before);
  expect(events).toHaveLength(2);
  expect(events.reduce((n, e) => n + e.batchSize, 0)).toBe(100);
  rows.forEach((row, i) => {
    expect(row.n).toBe(i);
    expect(row.note).toBe(`row ${i}`);
    expect(microshardOfId(row.id)).toBe((i % 8) + 1);
  });
});

it("splits a failing batch so that only the bad row fails", async () => {
  const shard = fx.cluster.shard(3);
  await shard.insert("items", { n: 5000 });
  const outcomes = await Promise.allSettled(
    [4999, 5000, 5001, 5002, 5003].map((n) => shard.insert("items", { n })),
  );
  expect(outcomes.map((o) => o.status)).toEqual([
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: "23505" });
  const stored = await shard.query<{ n: number }>(
    "SELECT n FROM sh0003.items WHERE n BETWEEN 4999 AND 5003 ORDER BY n",
    [],
    { role: "master" },
  );
  expect(stored.map((r) => r.n)).toEqual([4999, 5000, 5001, 5002, 5003]);
});

it("records the session's position so that the next read sees the insert", async () => {
  const session = fx.cluster.session();
  const row = await fx.cluster.shard(6).insert<{ id: string }>("items", { n: 6006 }, { session });
  const loaded = await fx.cluster.shardOf(row.id).load("items", "id", row.id, { session });
  expect(loaded).toMatchObject({ id: row.id, n: 6006 });
});
