import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  eventually,
  sleep,
  startClientFixture,
} from "../../../test/helpers/cluster-fixture.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 1, replicasPerIsland: 1, microshards: 2 });
});

afterAll(async () => {
  await fx?.stop();
});

it("a writer rides through a real failover: no error seen, every acknowledged write readable", async () => {
  const { cluster, local } = fx;
  const shard = cluster.shard(1);
  const acknowledged: number[] = [];
  const errors: unknown[] = [];
  let stop = false;
  const roleChanges: string[] = [];
  cluster.events.on("role-change", (e) => roleChanges.push(`${e.node}:${e.from}->${e.to}`));

  const writer = (async () => {
    for (let n = 1; !stop; n++) {
      try {
        await shard.query(
          "INSERT INTO sh0001.items (n, note) VALUES ($1, 'failover') ON CONFLICT (n) DO NOTHING",
          [n],
          { write: true, idempotent: true },
        );
        acknowledged.push(n);
      } catch (error) {
        errors.push(error);
      }
    }
  })();

  await eventually(
    async () => (acknowledged.length >= 100 ? true : undefined),
    "100 writes before failover",
  );
  const oldMaster = local.master(1);
  const replica = local.replicas(1)[0];
  if (!replica) throw new Error("no replica");
  await local.waitForReplication();
  await local.stopNode(oldMaster);
  await sleep(300); // the island has no master for a moment: writes wait and retry
  await local.promote(replica);
  const atPromotion = acknowledged.length;
  await eventually(
    async () => (acknowledged.length >= atPromotion + 100 ? true : undefined),
    "100 writes on the new master",
  );
  stop = true;
  await writer;

  expect(errors).toEqual([]);
  const rows = await replica.query<{ n: number }>("SELECT n FROM sh0001.items ORDER BY n");
  const stored = new Set(rows.map((r) => r.n));
  expect(acknowledged.filter((n) => !stored.has(n))).toEqual([]);
  expect(roleChanges).toContain(`${replica.name}:replica->master`);
  // Writes after the promotion went to the promoted node.
  const last = fx.queries.filter((q) => q.error === undefined).at(-1);
  expect(last?.node).toBe(replica.name);
});
