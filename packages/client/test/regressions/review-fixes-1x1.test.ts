// One test per bug found in review of the client runtime, each named after the bug it pins down.
import { formatId, InvalidIdError } from "@archipelago/topology";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  startClientFixture,
} from "../../../../test/helpers/cluster-fixture.js";
import { Cluster, RetryDeadlineExceededError, WriteSentAsReadError } from "../../src/index.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 1, replicasPerIsland: 1, microshards: 1 });
  await fx.cluster.rediscover();
});

afterAll(async () => {
  await fx?.stop();
});

it("a query listener that throws no longer fails (or retries) the query", async () => {
  const listenerErrors: unknown[] = [];
  const throwing = () => {
    throw new Error("listener bug");
  };
  fx.cluster.events.on("query", throwing);
  fx.cluster.events.on("listener-error", (e) => listenerErrors.push(e));
  try {
    const [row] = await fx.cluster
      .shard(1)
      .query<{ n: number }>("INSERT INTO sh0001.items (n) VALUES (1) RETURNING n", [], {
        write: true,
      });
    expect(row).toEqual({ n: 1 });
  } finally {
    fx.cluster.events.off("query", throwing);
  }
  expect(listenerErrors).toHaveLength(1);
  const rows = await fx.cluster
    .shard(1)
    .query("SELECT n FROM sh0001.items", [], { role: "master" });
  expect(rows).toEqual([{ n: 1 }]); // written exactly once
});

it("a data-changing statement sent as a read fails at once instead of looping on replicas", async () => {
  const started = Date.now();
  await expect(
    fx.cluster
      .shard(1)
      .query("INSERT INTO sh0001.items (n) VALUES (2)", [], { role: "replica-ok" }),
  ).rejects.toBeInstanceOf(WriteSentAsReadError);
  expect(Date.now() - started).toBeLessThan(1_000);
});

it("an exhausted pool is waited out, not mistaken for a dead master", async () => {
  const cluster = new Cluster(fx.local.config, {
    pool: { max: 1, connectionTimeoutMillis: 200 },
    retry: { deadlineMs: 5_000 },
  });
  try {
    await cluster.rediscover();
    const shard = cluster.shard(1);
    const slow = shard.query("SELECT pg_sleep(0.6)", [], { role: "master" });
    const waiting = shard.query<{ one: number }>("SELECT 1 AS one", [], { role: "master" });
    await expect(waiting).resolves.toEqual([{ one: 1 }]);
    await slow;
    const master = cluster.islands()[0]?.nodes.find((n) => n.role === "master");
    expect(master?.health).toBe("up");
  } finally {
    await cluster.end();
  }
});

it("an ID of another environment is refused before any SQL", () => {
  const foreign = formatId({ environment: 2, microshard: 1, sequence: 1n });
  expect(() => fx.cluster.shardOf(foreign)).toThrow(InvalidIdError);
});

it("a NaN deadline is refused instead of retrying forever", async () => {
  await expect(
    fx.cluster.shard(1).query("SELECT 1", [], { deadlineMs: Number.NaN }),
  ).rejects.toBeInstanceOf(RangeError);
  expect(() => new Cluster(fx.local.config, { discoveryJitter: 3 })).toThrow(
    /options.discoveryJitter/,
  );
});

// Last: it promotes the replica and stops the old master.
it("with two masters on an island (old one not fenced), writes wait instead of picking one", async () => {
  const oldMaster = fx.local.master(1);
  const replica = fx.local.replicas(1)[0];
  if (!replica) throw new Error("no replica");
  await replica.promote(); // both nodes now accept writes
  await fx.cluster.rediscover();
  await expect(
    fx.cluster
      .shard(1)
      .query("INSERT INTO sh0001.items (n) VALUES (3)", [], { write: true, deadlineMs: 600 }),
  ).rejects.toBeInstanceOf(RetryDeadlineExceededError);
  await fx.local.stopNode(oldMaster);
  await fx.cluster.rediscover();
  await expect(
    fx.cluster.shard(1).query("INSERT INTO sh0001.items (n) VALUES (3)", [], { write: true }),
  ).resolves.toBeDefined();
});
