import { IslandMasters, readCatalogs } from "@archipelago/migrate";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ClientFixture, startClientFixture } from "../../../test/helpers/cluster-fixture.js";
import { Mover } from "../src/index.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

let fx: ClientFixture;
let masters: IslandMasters;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 1, microshards: 4 });
  masters = new IslandMasters(fx.local.config);
  await fx.cluster.rediscover();
  await fx.cluster
    .shard(1)
    .query(
      "INSERT INTO sh0001.items (n, note) SELECT g, 'seed' FROM generate_series(1, 5000) g",
      [],
      { write: true },
    );
  // Readers below carry no session, so replicas may serve them: let the replicas have the seed rows.
  await fx.local.waitForReplication();
});

afterAll(async () => {
  await masters?.end();
  await fx?.stop();
});

it("moves a microshard while the app writes and reads it; nothing lost, nothing doubled, no app error", async () => {
  const { cluster } = fx;
  const source = fx.placement.get(1) as number;
  const target = source === 1 ? 2 : 1;
  const errors: unknown[] = [];
  const acknowledged: number[] = [];
  let stop = false;
  const writers = Array.from({ length: 8 }, (_, w) =>
    (async () => {
      for (let i = 0; !stop; i++) {
        const n = 100_000 + w * 100_000 + i;
        try {
          await cluster
            .shard(1)
            .query(
              "INSERT INTO sh0001.items (n, note) VALUES ($1, 'live') ON CONFLICT (n) DO NOTHING",
              [n],
              {
                write: true,
                idempotent: true,
              },
            );
          acknowledged.push(n);
        } catch (error) {
          errors.push(error);
        }
      }
    })(),
  );
  const readers = Array.from({ length: 4 }, () =>
    (async () => {
      while (!stop) {
        try {
          const [row] = await cluster
            .shard(1)
            .query<{ c: string }>("SELECT count(*) AS c FROM sh0001.items");
          expect(Number(row?.c)).toBeGreaterThanOrEqual(5000);
          // Another microshard keeps working throughout.
          await cluster.shard(2).query("SELECT count(*) FROM sh0002.items");
        } catch (error) {
          errors.push(error);
        }
      }
    })(),
  );

  const steps: string[] = [];
  const mover = new Mover({
    config: fx.local.config,
    masters,
    options: { verify: true },
    onProgress: (p) => steps.push(p.step),
  });
  let job: Awaited<ReturnType<Mover["move"]>>;
  try {
    job = await mover.move(1, target);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    stop = true;
    await Promise.all([...writers, ...readers]);
  }

  expect(errors).toEqual([]);
  expect(job.state).toBe("completed");
  expect(job.writeBlockMs).toBeGreaterThan(0);
  expect(steps).toContain("initial-copy");

  const catalog = await readCatalogs(masters);
  expect(
    catalog
      .filter((r) => r.microshard === 1)
      .map((r) => [r.island, r.state, r.generation])
      .sort(),
  ).toEqual(
    [
      [source, "sent", 2],
      [target, "active", 2],
    ].sort(),
  );
  const stored = await fx.local
    .master(target)
    .query<{ n: number }>("SELECT n FROM sh0001.items WHERE n >= 100000");
  const counts = new Map<number, number>();
  for (const { n } of stored) counts.set(n, (counts.get(n) ?? 0) + 1);
  expect(acknowledged.filter((n) => counts.get(n) !== 1)).toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(50);

  // The ID generator continues past every ID the source issued.
  const [ids] = await fx.local
    .master(target)
    .query<{ max: string; next: string }>(
      "SELECT (SELECT max(id) FROM sh0001.items)::text AS max, sh0001.archipelago_next_id()::text AS next",
    );
  expect(BigInt(ids?.next ?? 0)).toBeGreaterThan(BigInt(ids?.max ?? 0));

  expect(await replicationLeftovers(fx.local)).toEqual([]);
  const cleaned = await mover.cleanup(job.id);
  expect(cleaned.dropped).toBe(true);
  const retired = await fx.local
    .master(source)
    .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sh0001%'");
  expect(retired).toEqual([]);
});
