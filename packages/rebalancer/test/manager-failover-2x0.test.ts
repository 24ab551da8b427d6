/**
 * Leader failover between two `archipelago manager` processes in the middle of a rebalance: the leader
 * is killed (SIGKILL) while a move is under way; the standby takes the lead, resumes the interrupted
 * move from its checkpoint and finishes the rebalance; the app writing meanwhile sees no error and
 * loses no acknowledged row.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { IslandMasters } from "@archipelago/migrate";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  eventually,
  startClientFixture,
} from "../../../test/helpers/cluster-fixture.js";
import { JobControl, type JobRecord } from "../src/index.js";
import { startAppWriter } from "./helpers/app-writer.js";
import { allocateOnlyOn, writeConfigFile } from "./helpers/cluster-setup.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

const BIN = join(import.meta.dirname, "../bin/archipelago.js");

let fx: ClientFixture;
let masters: IslandMasters;
let control: JobControl;
let dir: string;
let configPath: string;
const managers: ChildProcess[] = [];

interface ManagerProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
}

function startManager(identity: string): ManagerProcess {
  const child = spawn(
    process.execPath,
    [BIN, "manager", "--identity", identity, "--tick", "100", "--measure-every", "1000"],
    {
      env: { ...process.env, ARCHIPELAGO_CONFIG: configPath },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  managers.push(child);
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop() ?? "";
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line));
  });
  child.stderr?.on("data", () => {});
  return { child, lines };
}

/** The fixture's `eventually`, with these tests' longer default wait (moves run meanwhile). */
function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) {
  return eventually(check, what, timeoutMs);
}

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 0, microshards: 0 });
  // Everything starts on island 1 (island 2 draining while allocating), so the rebalance has work.
  await allocateOnlyOn(fx.local.config, 6, [1]);
  masters = new IslandMasters(fx.local.config);
  control = new JobControl({ config: fx.local.config, masters });
  await fx.cluster.rediscover();
  for (let m = 1; m <= 6; m++) {
    await fx.cluster
      .shard(m)
      .query(
        `INSERT INTO sh000${m}.items (n, note) SELECT g, repeat('x', 300) FROM generate_series(1, 30000) g`,
        [],
        { write: true },
      );
  }
  ({ dir, path: configPath } = writeConfigFile(fx.local.config, "archipelago-managers-"));
});

afterAll(async () => {
  for (const child of managers) if (child.exitCode === null) child.kill("SIGKILL");
  await masters?.end();
  await fx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("the standby takes over when the leader dies mid-rebalance, and the rebalance completes", async () => {
  const a = startManager("manager-a");
  await until(
    async () => (a.lines.some((l) => l.type === "lead-taken") ? true : undefined),
    "manager-a to lead",
  );
  const b = startManager("manager-b");
  await until(
    async () => (b.lines.some((l) => l.type === "manager-started") ? true : undefined),
    "manager-b to start",
  );
  expect((await control.globalState()).leader).toBe("manager-a");

  const app = startAppWriter(fx.cluster, 6, 1_000_000);
  let children: JobRecord[] = [];
  try {
    const created = await control.createRebalance({ threshold: 0.1 });
    expect(created.children.length, JSON.stringify(created.plan)).toBeGreaterThanOrEqual(2);
    const store = await control.store();
    // Kill the leader while a move is past its first steps but before its switch.
    const victim = await until(async () => {
      const running = (await store.children(created.job.id)).find(
        (j) => j.state === "running" && ["initial-copy", "catch-up"].includes(j.step),
      );
      return running;
    }, "a move under way");
    a.child.kill("SIGKILL");

    await until(
      async () => (b.lines.some((l) => l.type === "lead-taken") ? true : undefined),
      "manager-b to take the lead",
    );
    const ended = await until(
      async () => {
        const job = await store.get(created.job.id);
        return job && ["completed", "failed"].includes(job.state) ? job : undefined;
      },
      "the rebalance to end",
      90_000,
    );
    expect(ended.state).toBe("completed");
    children = await store.children(created.job.id);
    const resumed = children.find((c) => c.id === victim.id) as JobRecord;
    expect(resumed.state).toBe("completed");
    // Its history shows both runs: started under manager-a, resumed from its checkpoint by manager-b.
    expect(resumed.history.filter((h) => h.type === "running").length).toBeGreaterThanOrEqual(2);
    expect((await control.globalState()).leader).toBe("manager-b");
  } finally {
    expect(await app.stop()).toBe(0);
  }
  expect(children.every((c) => c.state === "completed")).toBe(true);
  expect(app.errors).toEqual([]);
  b.child.kill("SIGTERM");
  await until(async () => (b.child.exitCode !== null ? true : undefined), "manager-b to exit");
  expect(b.lines.some((l) => l.type === "manager-stopped")).toBe(true);
  expect(await replicationLeftovers(fx.local)).toEqual([]);
});
