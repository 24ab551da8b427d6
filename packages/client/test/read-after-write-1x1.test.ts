import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  eventually,
  startClientFixture,
} from "../../../test/helpers/cluster-fixture.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture(
    { islands: 1, replicasPerIsland: 1, microshards: 1 },
    { replicaPositionIntervalMs: 50 },
  );
});

afterAll(async () => {
  await fx?.stop();
});

it("reads its own writes through a lagging replica: master while behind, replica once caught up", async () => {
  const { cluster, local, queries } = fx;
  const shard = cluster.shard(1);
  const replica = local.replicas(1)[0];
  if (!replica) throw new Error("no replica");
  const read = (options: Parameters<typeof shard.query>[2]) =>
    shard.query<{ n: number }>("SELECT n FROM sh0001.items WHERE n = 1", [], options);

  // Warm up: roles known, a read without a session goes to the replica.
  await cluster.rediscover();
  await read({});
  expect(queries.at(-1)?.node).toBe(replica.name);

  await local.pauseReplay(replica);
  const session = cluster.session();
  await shard.query("INSERT INTO sh0001.items (n) VALUES (1)", [], { write: true, session });

  expect(await read({ session })).toEqual([{ n: 1 }]);
  expect(queries.at(-1)).toMatchObject({
    node: local.master(1).name,
    reason: "master-replica-lagging",
  });

  // replica-ok accepts staleness: served by the paused replica, which does not have the row yet.
  expect(await read({ session, role: "replica-ok" })).toEqual([]);
  expect(queries.at(-1)).toMatchObject({ node: replica.name, reason: "replica-ok" });

  // The position survives serialization (a cookie, a job payload).
  const carried = cluster.session(session.serialize());
  expect(await read({ session: carried })).toEqual([{ n: 1 }]);
  expect(queries.at(-1)?.node).toBe(local.master(1).name);

  await local.resumeReplay(replica);
  await eventually(async () => {
    const rows = await read({ session });
    return queries.at(-1)?.node === replica.name ? rows : undefined;
  }, "a session read served by the caught-up replica");
  expect(queries.at(-1)?.reason).toBe("replica-caught-up");
  expect(await read({ session, role: "master" })).toEqual([{ n: 1 }]);
  expect(queries.at(-1)?.reason).toBe("master-mode");
});
