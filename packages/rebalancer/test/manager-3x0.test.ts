/**
 * The shard manager on a real 3-island cluster: a rebalance job onto a new island while an app writes,
 * stop and resume of a running move, the global switch's semantics, a drain that empties an island the
 * app can then forget, and automatic mode (quiet under the threshold, acting above it).
 */
import { allocateMicroshards, IslandMasters, readCatalogs } from "@archipelago/migrate";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  startClientFixture,
  TEST_MIGRATIONS,
} from "../../../test/helpers/cluster-fixture.js";
import { JobControl, type JobRecord, Manager, type ManagerEvent } from "../src/index.js";
import { startAppWriter } from "./helpers/app-writer.js";
import { allocateOnlyOn } from "./helpers/cluster-setup.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

let fx: ClientFixture;
let masters: IslandMasters;
let control: JobControl;

function manager(options: ConstructorParameters<typeof Manager>[0]["options"] = {}) {
  const events: ManagerEvent[] = [];
  const m = new Manager({
    config: fx.local.config,
    masters,
    options: { tickMs: 100, measureEveryMs: 300, ...options },
    onEvent: (e) => events.push(e),
  });
  return Object.assign(m, { events });
}

/** Retries an assertion until it passes or `timeoutMs` runs out (then its last failure is thrown). */
async function until(check: () => unknown, timeoutMs = 10_000, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

async function placement(): Promise<Map<number, number>> {
  const rows = await readCatalogs(masters);
  return new Map(rows.filter((r) => r.state === "active").map((r) => [r.microshard, r.island]));
}

beforeAll(async () => {
  // Island 3 is "new": it is draining while the microshards are allocated, so it gets none.
  fx = await startClientFixture({ islands: 3, replicasPerIsland: 0, microshards: 0 });
  await allocateOnlyOn(fx.local.config, 8, [1, 2]);
  masters = new IslandMasters(fx.local.config);
  control = new JobControl({ config: fx.local.config, masters });
  await fx.cluster.rediscover();
  for (let m = 1; m <= 8; m++) {
    await fx.cluster
      .shard(m)
      .query(
        `INSERT INTO sh000${m}.items (n, note) SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g`,
        [],
        { write: true },
      );
  }
});

afterAll(async () => {
  await masters?.end();
  await fx?.stop();
});

it("a rebalance job moves microshards onto a new island while an app writes, within the limits", async () => {
  const app = startAppWriter(fx.cluster, 8, 100_000);
  const m = manager({ limits: { maxParallelMoves: 2, maxMovesPerIsland: 1 } }).start();
  let moves: JobRecord[];
  try {
    const created = await control.createRebalance({ threshold: 0.3 });
    expect(created.children.length).toBeGreaterThan(0);
    expect(created.children.every((c) => c.targetIsland === 3)).toBe(true);
    const ended = await m.waitFor(created.job.id);
    expect(ended.state).toBe("completed");
    moves = (await (await control.store()).children(created.job.id)) as JobRecord[];
  } finally {
    await m.close();
  }
  expect(moves.every((j) => j.state === "completed" && j.writeBlockMs !== null)).toBe(true);
  // One move per island at a time: island 3 is every move's target, so they never overlapped.
  const spans = moves.map((j) => {
    const started = j.history.find((h) => h.type === "running")?.at as string;
    return [Date.parse(started), j.updatedAt.getTime()] as const;
  });
  for (const [i, a] of spans.entries()) {
    for (const b of spans.slice(i + 1)) expect(a[1] <= b[0] || b[1] <= a[0]).toBe(true);
  }
  expect(await app.stop()).toBe(0);
  expect(app.errors).toEqual([]);
  const after = await control.createRebalance({ threshold: 0.3 });
  expect(after.children).toEqual([]);
  expect(after.plan.before.imbalance).toBeLessThanOrEqual(1.3);
  await control.delete(after.job.id);
  expect(await replicationLeftovers(fx.local)).toEqual([]);
});

it("a move stopped by an operator stops mid-move and finishes once resumed", async () => {
  const before = await placement();
  const microshard = 1;
  const target = [1, 2, 3].find((i) => i !== before.get(microshard)) as number;
  // A catch-up that can never finish (lag ≤ -1) holds the move in its wait until it is stopped.
  const first = manager({ move: { catchUpMaxLagBytes: -1 } }).start();
  let job: JobRecord;
  try {
    job = await control.createMove(microshard, target);
    const id = job.id;
    await until(async () => expect((await control.get(id)).step).toBe("catch-up"), 20_000);
    await control.stop(job.id, "test: stop mid-move");
    await until(() => expect(first.runningJobIds).not.toContain(id), 10_000);
  } finally {
    await first.close();
  }
  const stopped = await control.get(job.id);
  expect(stopped).toMatchObject({ state: "stopped", stoppedBy: "operator", step: "catch-up" });
  expect(first.events).toContainEqual(
    expect.objectContaining({ type: "job-ended", jobId: job.id, outcome: "stopped" }),
  );
  expect((await placement()).get(microshard)).toBe(before.get(microshard));
  // Stays stopped across a global stop and start.
  await control.setGlobalState("stopped", "test");
  await control.setGlobalState("running", "test");
  expect(await control.get(job.id)).toMatchObject({ state: "stopped", stoppedBy: "operator" });
  const second = manager().start();
  try {
    await control.resume(job.id);
    const ended = await second.waitFor(job.id);
    expect(ended.state).toBe("completed");
  } finally {
    await second.close();
  }
  expect((await placement()).get(microshard)).toBe(target);
});

it("the global switch: jobs created while stopped wait; failed stay failed; completed ignore commands", async () => {
  const store = await control.store();
  await control.setGlobalState("stopped", "maintenance window");
  try {
    expect((await control.summary()).state).toBe("stopped");
    const place = await placement();
    const waiting = await control.createMove(2, place.get(2) === 3 ? 1 : 3);
    expect(waiting).toMatchObject({ state: "stopped", stoppedBy: "global" });
    const byHand = await control.createMove(4, place.get(4) === 3 ? 1 : 3);
    await control.stop(byHand.id, "operator says no");
    const failed = await control.createMove(5, place.get(5) === 3 ? 1 : 3);
    await store.setState(failed.id, "failed", "test: failed before its switch");
    const completed = (await store.all()).find((j) => j.state === "completed") as JobRecord;
    expect(await control.stop(completed.id)).toMatchObject({ state: "completed" });

    await control.setGlobalState("running", "window over");
    expect(await control.get(waiting.id)).toMatchObject({ state: "new", stoppedBy: null });
    expect(await control.get(byHand.id)).toMatchObject({ state: "stopped", stoppedBy: "operator" });
    expect(await control.get(failed.id)).toMatchObject({ state: "failed" });
    expect(await control.resume(completed.id)).toMatchObject({ state: "completed" });
    // Resumed while the switch is off, a job waits for the switch.
    await control.setGlobalState("stopped", "again");
    expect(await control.resume(failed.id)).toMatchObject({
      state: "stopped",
      stoppedBy: "global",
    });
    await control.setGlobalState("running", "go");
    expect(await control.get(failed.id)).toMatchObject({ state: "new" });
    for (const job of [waiting, byHand, failed]) {
      await control.stop(job.id, "test over");
      await control.delete(job.id);
    }
  } finally {
    await control.setGlobalState("running", "test over");
  }
});

it("refuses bad and conflicting requests with typed errors, changing nothing", async () => {
  const count = await (await control.store()).count();
  await expect(control.createMove(1, 9)).rejects.toMatchObject({ code: "JOB_REQUEST" });
  await expect(control.createMove(9999, 2)).rejects.toMatchObject({ code: "MOVE_REFUSED" });
  await expect(control.createMove(0, 2)).rejects.toMatchObject({ code: "JOB_REQUEST" });
  const here = (await placement()).get(3) as number;
  await expect(control.createMove(3, here)).rejects.toMatchObject({ code: "MOVE_REFUSED" });
  await expect(control.createDrain(fx.local.config.globalIsland)).rejects.toMatchObject({
    code: "JOB_REQUEST",
  });
  await expect(control.createAllocate(0)).rejects.toMatchObject({ code: "JOB_REQUEST" });
  await expect(control.get(123_456)).rejects.toMatchObject({ code: "JOB_NOT_FOUND" });
  expect(await (await control.store()).count()).toBe(count);
});

it("drains an island that the app can then forget; automatic mode leaves it empty", async () => {
  const app = startAppWriter(fx.cluster, 8, 100_000);
  const m = manager({ mode: "automatic", auto: { confirmations: 1, cooldownMs: 0 } }).start();
  try {
    const drain = await control.createDrain(2, "test: retire island 2");
    expect(drain.children.every((c) => c.sourceIsland === 2 && c.targetIsland !== 2)).toBe(true);
    const ended = await m.waitFor(drain.job.id);
    expect(ended.state).toBe("completed");
    expect([...(await placement()).values()]).not.toContain(2);
    // A few more measurements: automatic mode must not move anything back onto a drained island.
    await new Promise((r) => setTimeout(r, 1_500));
    expect([...(await placement()).values()]).not.toContain(2);
    // Nor does allocation put a new microshard there, though the config does not say draining.
    const { allocated } = await allocateMicroshards(masters, {
      count: 2,
      migrations: TEST_MIGRATIONS,
    });
    expect(allocated.map((a) => a.island)).not.toContain(2);
  } finally {
    await m.close();
  }
  expect(await app.stop()).toBe(0);
  expect(app.errors).toEqual([]);
  // An app whose config no longer has island 2 reads every microshard.
  const { Cluster } = await import("@archipelago/client");
  const without = new Cluster({
    ...fx.local.config,
    islands: fx.local.config.islands.filter((i) => i.island !== 2),
  });
  try {
    for (let s = 1; s <= 8; s++) {
      const rows = await without.shard(s).query(`SELECT count(*) FROM sh000${s}.items`);
      expect(rows).toHaveLength(1);
    }
  } finally {
    await without.end();
  }
});

it("automatic mode stays quiet under the start line and rebalances above it", async () => {
  const store = await control.store();
  const parents = async () => (await store.all()).filter((j) => j.type === "rebalance").length;
  // Island 2 is drained and empty; the other two hold everything, evenly: under the start line.
  const m = manager({
    mode: "automatic",
    auto: { threshold: 0.3, startAbove: 0.4, confirmations: 2, cooldownMs: 0 },
  }).start();
  try {
    const quietBefore = await parents();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(m.events.filter((e) => e.type === "measured").length).toBeGreaterThan(2);
    expect(await parents()).toBe(quietBefore);
    // The leader stores what it measured and publishes the cluster map to every island.
    const global = await control.globalState();
    expect(global.leader).toBe(m.options.identity);
    expect(global.measurement).toMatchObject({ imbalance: expect.any(Number) });
    const published = m.events.find((e) => e.type === "map-published") as { epoch: number };
    for (const { island } of fx.local.islands) {
      const [row] = await fx.local
        .master(island)
        .query("SELECT epoch FROM archipelago.cluster_map_epoch");
      expect(Number((row as { epoch: string }).epoch)).toBeGreaterThanOrEqual(published.epoch);
    }
    // Island 2 is back: the others are now 1.5x their share, above the line, so a rebalance starts.
    await control.undrain(2);
    await until(async () => expect(m.events.some((e) => e.type === "auto")).toBe(true), 20_000);
    const auto = m.events.find((e) => e.type === "auto") as Extract<ManagerEvent, { type: "auto" }>;
    expect(auto.decision.action).toBe("rebalance");
    const ended = await m.waitFor(auto.jobId as number);
    expect(ended.state).toBe("completed");
    expect([...(await placement()).values()]).toContain(2);
  } finally {
    await m.close();
  }
  expect(await replicationLeftovers(fx.local)).toEqual([]);
});
