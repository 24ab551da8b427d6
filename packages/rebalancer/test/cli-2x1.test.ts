/**
 * The `archipelago` command against a real 2-island cluster (1 replica each), run as a child process
 * through its bin shim exactly as a user runs it: exit codes, JSON documents, progress lines, and no
 * password in any output.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IslandMasters, installCatalog, readCatalogs } from "@archipelago/migrate";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { serializeClusterConfig } from "@archipelago/topology";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { islandImbalance } from "../src/plan/island-imbalance.js";
import { writeConfigFile } from "./helpers/cluster-setup.js";

const BIN = join(import.meta.dirname, "../bin/archipelago.js");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let cluster: LocalCluster;
let masters: IslandMasters;
let dir: string;
let configPath: string;
let migrationsDir: string;
let password: string;
const outputs: string[] = [];

/** Runs `archipelago …` with ARCHIPELAGO_CONFIG pointing at the test cluster (unless `env` says otherwise). */
function archipelago(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, PGPASSWORD: "", ARCHIPELAGO_CONFIG: configPath, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      outputs.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not one JSON document (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  masters = new IslandMasters(cluster.config);
  password = cluster.config.islands[0]?.nodes[0]?.password?.reveal() ?? "";
  ({ dir, path: configPath } = writeConfigFile(cluster.config, "archipelago-cli-"));
  migrationsDir = join(dir, "migrations");
  mkdirSync(migrationsDir);
  writeFileSync(
    join(migrationsDir, "0001_items.sharded.sql"),
    "CREATE TABLE items (id bigint PRIMARY KEY DEFAULT archipelago_next_id(), n integer NOT NULL UNIQUE, note text);",
  );
  writeFileSync(
    join(migrationsDir, "0002_settings.global.sql"),
    "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);",
  );
  await installCatalog(masters);
});

afterAll(async () => {
  await masters?.end();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("archipelago CLI on a 2x1 cluster", () => {
  let source = 0;
  let target = 0;
  let jobId = 0;
  const placement = new Map<number, number>();

  it("prints help for every command and exits 0", async () => {
    const runs = await Promise.all([
      archipelago(["--help"]),
      archipelago(["move", "--help"]),
      archipelago(["jobs", "list", "--help"]),
      archipelago(["cleanup", "--help"]),
      archipelago(["manager", "--help"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(runs[4]?.stdout).toContain("--max-moves-per-island <n>");
    expect(runs[0]?.stdout).toContain("Exit codes:");
    expect(runs[1]?.stdout).toContain("--switch-deadline <ms>");
    expect(runs[1]?.stdout).toContain("--config <file>");
  });

  it("exits 2 on usage and config errors, with a JSON error under --json", async () => {
    const [noTarget, noConfig, badNumber, unknownIsland] = await Promise.all([
      archipelago(["move", "3"]),
      archipelago(["status", "--json"], { ARCHIPELAGO_CONFIG: "" }),
      archipelago(["move", "sh99999", "--to", "2"]),
      archipelago(["move", "3", "--to", "9", "--json"]),
    ]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("--to");
    expect(noConfig.code).toBe(2);
    expect(json<{ error: { code: string } }>(noConfig).error.code).toBe("USAGE");
    expect(badNumber.code).toBe(2);
    expect(unknownIsland.code).toBe(2);
    expect(json<{ error: { message: string } }>(unknownIsland).error.message).toContain(
      "island 9 is not in the config",
    );
  });

  it("allocates shard 0 and microshards", async () => {
    const zero = await archipelago(["allocate", "--numbers", "0", "-d", migrationsDir, "--json"]);
    expect(zero.code).toBe(0);
    const four = await archipelago(["allocate", "-n", "4", "-d", migrationsDir, "--json"]);
    expect(four.code).toBe(0);
    const result = json<{ allocated: { microshard: number; island: number }[] }>(four);
    expect(result.allocated.map((a) => a.microshard)).toEqual([1, 2, 3, 4]);
    for (const a of result.allocated) placement.set(a.microshard, a.island);
    source = placement.get(3) as number;
    target = source === 1 ? 2 : 1;
    await cluster
      .master(source)
      .query("INSERT INTO sh0003.items (n, note) SELECT g, 'row' FROM generate_series(1, 3000) g");
  });

  it("shows islands, nodes with roles, microshards with sizes, and the imbalance", async () => {
    const run = await archipelago(["status", "--json"]);
    expect(run.code).toBe(0);
    const status = json<{
      globalIsland: number;
      imbalance: number;
      violations: unknown[];
      islands: {
        island: number;
        nodes: { role: string }[];
        microshards: { microshard: number; state: string; generation: number; bytes: number }[];
        activeBytes: number;
      }[];
    }>(run);
    expect(status.globalIsland).toBe(1);
    expect(status.islands.map((i) => i.island)).toEqual([1, 2]);
    for (const island of status.islands) {
      expect(island.nodes.map((n) => n.role)).toEqual(["master", "replica"]);
    }
    const all = status.islands.flatMap((i) => i.microshards.map((m) => m.microshard)).sort();
    expect(all).toEqual([0, 1, 2, 3, 4]);
    const sh3 = status.islands
      .find((i) => i.island === source)
      ?.microshards.find((m) => m.microshard === 3);
    expect(sh3).toMatchObject({ state: "active", generation: 1 });
    expect(sh3?.bytes).toBeGreaterThan(100_000);
    expect(status.imbalance).toBeGreaterThanOrEqual(1);
    expect(status.violations).toEqual([]);

    const text = await archipelago(["status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/imbalance \d+\.\d\d/);
    expect(text.stdout).toContain("sh0003");
  });

  it("exits 3 when a pre-check refuses the move (already on that island)", async () => {
    const run = await archipelago(["move", "3", "--to", String(source), "--json"]);
    expect(run.code).toBe(3);
    expect(json<{ error: { code: string } }>(run).error.code).toBe("MOVE_REFUSED");
  });

  it("moves a microshard, with progress as JSON lines on a non-terminal stderr", async () => {
    const run = await archipelago(["move", "sh0003", "--to", String(target), "--verify", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const { job } = json<{
      job: { id: number; state: string; writeBlockMs: number; targetIsland: number };
    }>(run);
    expect(job.state).toBe("completed");
    expect(job.targetIsland).toBe(target);
    expect(job.writeBlockMs).toBeGreaterThan(0);
    jobId = job.id;
    const events = run.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; step?: string });
    expect(events.filter((e) => e.event === "move.step").map((e) => e.step)).toContain("switch");
    expect(events.some((e) => e.event === "move.progress" && e.step === "initial-copy")).toBe(true);

    const rows = (await readCatalogs(masters)).filter((r) => r.microshard === 3);
    expect(rows.map((r) => [r.island, r.state]).sort()).toEqual(
      [
        [source, "sent"],
        [target, "active"],
      ].sort(),
    );
    const [count] = await cluster
      .master(target)
      .query<{ c: string }>("SELECT count(*)::text AS c FROM sh0003.items");
    expect(count?.c).toBe("3000");
  });

  it("prints a one-line summary without --json", async () => {
    const from = placement.get(4) as number;
    const to = from === 1 ? 2 : 1;
    const run = await archipelago(["move", "4", "--to", String(to), "--no-progress"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^move job \\d+ completed: sh0004 island ${from} → island ${to}, write block \\d+ ms$`,
        "m",
      ),
    );
    expect(run.stderr).toBe("");
  });

  it("exits 1 when the move aborts (write locks never granted) and leaves the microshard on its source", async () => {
    const from = placement.get(2) as number;
    // A transaction that holds a lock conflicting with the switch's write lock. It takes no
    // transaction id, so it does not hold back the creation of the replication slot (which waits
    // for every transaction with an id to end).
    const app = new pg.Client(cluster.master(from).connection());
    app.on("error", () => {});
    await app.connect();
    let run: Run;
    try {
      await app.query("BEGIN");
      await app.query("LOCK TABLE sh0002.items IN ROW SHARE MODE");
      run = await archipelago([
        "move",
        "2",
        "--to",
        String(from === 1 ? 2 : 1),
        "--lock-timeout",
        "50",
        "--json",
      ]);
    } finally {
      await app.query("ROLLBACK").catch(() => {});
      await app.end();
    }
    expect(run.code, run.stdout).toBe(1);
    const body = json<{ error: { code: string }; job: { state: string; step: string } }>(run);
    expect(body.error.code).toBe("MOVE_ABORTED");
    expect(body.job).toMatchObject({ state: "failed", step: "switch" });
    expect((await readCatalogs(masters)).filter((r) => r.microshard === 2)).toEqual([
      expect.objectContaining({ island: from, state: "active", generation: 1 }),
    ]);
  });

  it("lists and shows the job; resuming a completed job is a no-op", async () => {
    const list = await archipelago(["jobs", "list", "--json"]);
    expect(list.code).toBe(0);
    const { jobs } = json<{ jobs: { id: number; state: string; microshard: number }[] }>(list);
    expect(jobs).toContainEqual(
      expect.objectContaining({ id: jobId, state: "completed", microshard: 3 }),
    );
    const text = await archipelago(["jobs", "list"]);
    expect(text.stdout).toMatch(new RegExp(`^${jobId}\\s+move\\s+completed\\s+sh0003`, "m"));

    const show = await archipelago(["jobs", "show", String(jobId), "--json"]);
    expect(show.code).toBe(0);
    const { job } = json<{
      job: { history: { type: string }[]; objects: { kind: string; name: string }[] };
    }>(show);
    expect(job.history.map((h) => h.type)).toContain("created");
    expect(job.objects).toContainEqual(
      expect.objectContaining({ kind: "schema", name: `sh0003_moved_${jobId}` }),
    );
    const showText = await archipelago(["jobs", "show", String(jobId)]);
    expect(showText.stdout).toContain("history:");

    const missing = await archipelago(["jobs", "show", "99999", "--json"]);
    expect(missing.code).toBe(2);
    expect(json<{ error: { code: string } }>(missing).error.code).toBe("JOB_NOT_FOUND");

    const resume = await archipelago(["jobs", "resume", String(jobId)]);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toContain("already completed");
  });

  it("cleans up the retired source copy, once", async () => {
    const retiredSchema = `sh0003_moved_${jobId}`;
    const dry = await archipelago(["cleanup", "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    expect(json<{ cleaned: { jobId: number; dryRun: boolean }[] }>(dry).cleaned).toContainEqual(
      expect.objectContaining({ jobId, dryRun: true }),
    );

    const run = await archipelago(["cleanup", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(json<{ cleaned: unknown[] }>(run).cleaned).toContainEqual(
      expect.objectContaining({ jobId, dropped: true, pending: [] }),
    );
    const left = await cluster
      .master(source)
      .query("SELECT nspname FROM pg_namespace WHERE nspname = $1", [retiredSchema]);
    expect(left).toEqual([]);
    expect((await readCatalogs(masters)).filter((r) => r.microshard === 3)).toEqual([
      expect.objectContaining({ island: target, state: "active", generation: 2 }),
    ]);

    const again = await archipelago(["cleanup"]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe("nothing to clean up");
  });

  it("drives the global switch, a drain and a rebalance as jobs", async () => {
    const stopped = await archipelago(["stop", "--reason", "maintenance window", "--json"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(json(stopped)).toMatchObject({ state: "stopped", reason: "maintenance window" });

    // Created while the switch is off: the drain and its moves wait for it.
    const drain = await archipelago(["drain", "2", "--no-wait", "--json"]);
    expect(drain.code, drain.stderr).toBe(0);
    const created = json<{ job: { id: number; state: string }; children: unknown[] }>(drain);
    expect(created.job.state).toBe("stopped");
    const waiting = json<{ jobs: { id: number }[] }>(
      await archipelago(["jobs", "list", "--state", "stopped", "--json"]),
    );
    expect(waiting.jobs.map((j) => j.id)).toContain(created.job.id);
    const second = await archipelago(["rebalance", "--json"]);
    expect(second.code).toBe(3);
    expect(json<{ error: { code: string } }>(second).error.code).toBe("JOB_CONFLICT");

    const started = await archipelago(["start", "--reason", "window over"]);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain("shard manager running");
    const resumed = await archipelago(["jobs", "resume", String(created.job.id), "--no-progress"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`drain job ${created.job.id} completed`);
    const onTwo = (await readCatalogs(masters)).filter((r) => r.island === 2);
    expect(onTwo.filter((r) => r.state === "active")).toEqual([]);

    const undrain = await archipelago(["undrain", "2"]);
    expect(undrain.stdout).toContain("island 2 is no longer draining");
    const rebalance = await archipelago(["rebalance", "--threshold", "0.5", "--no-progress"]);
    expect(rebalance.code, rebalance.stdout + rebalance.stderr).toBe(0);
    expect(rebalance.stderr).toContain("imbalance");
    expect(rebalance.stdout).toMatch(/rebalance job \d+ completed/);

    const unknown = await archipelago(["jobs", "stop", "99999", "--json"]);
    expect(unknown.code).toBe(2);
  });

  it("warns about a config file others can read, without printing the password", async () => {
    const loose = join(dir, "loose.json");
    writeFileSync(
      loose,
      JSON.stringify(serializeClusterConfig(cluster.config, { revealPasswords: true })),
      { mode: 0o644 },
    );
    const run = await archipelago(["status", "--config", loose, "--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("chmod 600");
  });

  it("never prints the password", () => {
    expect(password.length).toBeGreaterThan(8);
    expect(outputs.length).toBeGreaterThan(20);
    expect(outputs.filter((o) => o.includes(password))).toEqual([]);
  });
});

describe("islandImbalance", () => {
  const island = (n: number, bytes: number | null, weight = 1, draining = false) => ({
    island: n,
    weight,
    draining,
    bytes,
  });

  it("is 1 for islands holding exactly their weighted share", () => {
    expect(islandImbalance([island(1, 200, 2), island(2, 100, 1)]).ratio).toBeCloseTo(1);
    expect(islandImbalance([island(1, 0), island(2, 0)]).ratio).toBe(1);
  });

  it("is the fullest island's size over its fair share", () => {
    const result = islandImbalance([island(1, 300), island(2, 100)]);
    expect(result.ratio).toBeCloseTo(1.5);
    expect(result.islands.map((i) => i.load)).toEqual([1.5, 0.5]);
  });

  it("counts a draining island's data but gives it no share", () => {
    const result = islandImbalance([island(1, 100), island(2, 100), island(3, 100, 1, true)]);
    expect(result.ratio).toBeCloseTo(100 / 150);
    expect(result.islands[2]?.load).toBeNull();
  });

  it("is unknown when an island's size is", () => {
    expect(islandImbalance([island(1, 100), island(2, null)]).ratio).toBeNull();
  });
});
