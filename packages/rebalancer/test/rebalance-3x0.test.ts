import { allocateMicroshards, IslandMasters, readCatalogs } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  startClientFixture,
  TEST_MIGRATIONS,
} from "../../../test/helpers/cluster-fixture.js";
import { Mover, planFromCluster, runRebalance } from "../src/index.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

let fx: ClientFixture;

/** The local cluster's config with some islands marked draining. */
function withDraining(config: ClusterConfig, draining: readonly number[]): ClusterConfig {
  return {
    ...config,
    islands: config.islands.map((i) => ({ ...i, draining: draining.includes(i.island) })),
  };
}

beforeAll(async () => {
  // Island 3 is "new": it is draining while the microshards are allocated, so it gets none.
  fx = await startClientFixture({ islands: 3, replicasPerIsland: 0, microshards: 0 });
  const masters = new IslandMasters(withDraining(fx.local.config, [3]));
  try {
    const { allocated } = await allocateMicroshards(masters, {
      count: 8,
      migrations: TEST_MIGRATIONS,
    });
    for (const { microshard, island } of allocated) fx.placement.set(microshard, island);
  } finally {
    await masters.end();
  }
  await fx.cluster.rediscover();
  for (let m = 1; m <= 8; m++) {
    await fx.cluster
      .shard(m)
      .query(
        `INSERT INTO sh000${m}.items (n, note) SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g`,
        [],
        {
          write: true,
        },
      );
  }
});

afterAll(async () => {
  await fx?.stop();
});

it("rebalances onto a new island while an app writes, ending within the threshold", async () => {
  const masters = new IslandMasters(fx.local.config);
  const errors: unknown[] = [];
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const m = (i % 8) + 1;
      await fx.cluster
        .shard(m)
        .query(
          `INSERT INTO sh000${m}.items (n) VALUES ($1) ON CONFLICT (n) DO NOTHING`,
          [100_000 + i],
          {
            write: true,
            idempotent: true,
          },
        )
        .catch((e: unknown) => errors.push(e));
    }
  })();
  try {
    const plan = await planFromCluster(fx.local.config, masters, { threshold: 0.3 });
    expect(plan.moves.length).toBeGreaterThan(0);
    expect(plan.moves.every((m) => m.to === 3)).toBe(true);
    const outcome = await runRebalance(new Mover({ config: fx.local.config, masters }), plan);
    expect(outcome.failed).toEqual([]);
    expect(outcome.completed).toHaveLength(plan.moves.length);
    const after = await planFromCluster(fx.local.config, masters, { threshold: 0.3 });
    expect(after.before.imbalance).toBeLessThanOrEqual(1.3);
    expect(after.moves).toEqual([]);
  } finally {
    stop = true;
    await writer;
    await masters.end();
  }
  expect(errors).toEqual([]);
  expect(await replicationLeftovers(fx.local)).toEqual([]);
});

it("drains an island: everything but shard 0 leaves it, and the plan says why shard 0 stays", async () => {
  const config = withDraining(fx.local.config, [2]);
  const masters = new IslandMasters(config);
  try {
    const plan = await planFromCluster(config, masters, { threshold: 0.5 });
    const outcome = await runRebalance(new Mover({ config, masters }), plan);
    expect(outcome.failed).toEqual([]);
    const left = (await readCatalogs(masters)).filter((r) => r.island === 2);
    expect(left).toEqual([]);
    // Shard 0 lives on island 1 here; draining the global island is refused with an explanation.
    const global = withDraining(fx.local.config, [1]);
    const globalPlan = await planFromCluster(global, masters, { threshold: 0.5 });
    expect(globalPlan.reachable).toBe(false);
    expect(globalPlan.explanations.join(" ")).toMatch(/shard 0|pinned/);
  } finally {
    await masters.end();
  }
});
