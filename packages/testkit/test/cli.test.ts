/**
 * The `archipelago-local` CLI end to end, through its bin shim as a user runs it: up → status → psql →
 * down, each in its own process, so the servers must outlive the `up` process (no exit hook may take a
 * persistent cluster along).
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { destroyLocalCluster, openLocalCluster, readClusterConfigFile } from "../src/index.js";
import { isRunning, pgrep } from "./helpers/processes.js";

const bin = fileURLToPath(new URL("../bin/archipelago-local.js", import.meta.url));
const base = mkdtempSync(join(tmpdir(), "archipelago-cli-test-"));
chmodSync(base, 0o755); // the server user must be able to traverse it
const dir = join(base, "local");

afterAll(async () => {
  await destroyLocalCluster(dir).catch(() => undefined);
  rmSync(base, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: base }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("archipelago-local", () => {
  it("up starts a persistent 2 × 1 cluster and writes its config, printing no password", async () => {
    const run = await cli("up", "--dir", dir, "--islands", "2", "--replicas", "1");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const configPath = join(dir, "cluster-config.json");
    expect(run.stdout).toContain(`Config with passwords (mode 0600): ${configPath}`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    const password = readClusterConfigFile(dir).islands[0]?.nodes[0]?.password?.reveal();
    expect(password).toBeTruthy();
    expect(run.stdout).not.toContain(password);
    expect(run.stdout).toContain('"password": "******"');
  });

  it("status shows the 4 nodes, running, with the roles the servers report", async () => {
    const run = await cli("status", "--dir", dir, "--json");
    expect(run.code).toBe(0);
    const { nodes } = JSON.parse(run.stdout) as {
      nodes: {
        island: number;
        name: string;
        running: boolean;
        role: string;
        lagBytes: number | null;
      }[];
    };
    expect(nodes.map((n) => [n.island, n.name, n.running, n.role])).toEqual([
      [1, "island1-node0", true, "master"],
      [1, "island1-node1", true, "replica"],
      [2, "island2-node0", true, "master"],
      [2, "island2-node1", true, "replica"],
    ]);
    for (const replica of nodes.filter((n) => n.role === "replica")) {
      expect(replica.lagBytes).toBeGreaterThanOrEqual(0);
    }

    const table = await cli("status", "--dir", dir);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ISLAND\s+NODE\s+PORT\s+STATE\s+ROLE\s+LAG$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5))).toEqual(
      nodes.map((n) => [String(n.island), n.name, expect.any(String), "running", n.role]),
    );
  });

  it("psql runs against the island's master, or the node asked for", async () => {
    const master = await cli("psql", "1", "--dir", dir, "--", "-tAc", "SELECT pg_is_in_recovery()");
    expect(master).toMatchObject({ code: 0, stdout: "f\n" });
    const replica = await cli(
      "psql",
      "2",
      "--node",
      "1",
      "--dir",
      dir,
      "--",
      "-tAc",
      "SELECT pg_is_in_recovery()",
    );
    expect(replica).toMatchObject({ code: 0, stdout: "t\n" });
  });

  it("up on an existing cluster starts the servers that are down", async () => {
    const replica = openLocalCluster(dir).node(1, 1);
    await replica.stop("fast");
    expect(openLocalCluster(dir).node(1, 1).status).toBe("stopped");

    const run = await cli("up", "--dir", dir);

    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain(`Cluster in ${dir}: started island1-node1`);
    expect(openLocalCluster(dir).node(1, 1).status).toBe("running");
    const otherShape = await cli("up", "--dir", dir, "--islands", "3");
    expect(otherShape.code).toBe(1);
    expect(otherShape.stderr).toContain("CLUSTER_DIR_NOT_EMPTY");
  });

  it("reports bad usage with exit code 2 and a missing cluster with exit code 1", async () => {
    const nowhere = join(base, "nothing-here");
    const [zeroIslands, unknownCommand, negativeNode, help, missing, noIsland] = await Promise.all([
      cli("up", "--dir", dir, "--islands", "0"),
      cli("frobnicate"),
      cli("psql", "1", "--node", "-1", "--dir", dir),
      cli("status", "--help"),
      cli("status", "--dir", nowhere),
      cli("psql", "3", "--dir", dir),
    ]);
    expect(zeroIslands.code).toBe(2);
    expect(zeroIslands.stderr).toContain("--islands must be an integer ≥ 1");
    expect(unknownCommand.code).toBe(2);
    expect(negativeNode.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no cluster in ${nowhere}`);
    expect(missing.stderr).toContain("run archipelago-local up");
    expect(noIsland.code).toBe(1);
    expect(noIsland.stderr).toContain("NO_SUCH_NODE");
  });

  it("down stops every server and removes the folder", async () => {
    const dataDirs = ["island1-node0", "island1-node1", "island2-node0", "island2-node1"].map((n) =>
      join(dir, n, "data"),
    );
    const pids = dataDirs.map((d) =>
      Number(readFileSync(join(d, "postmaster.pid"), "utf8").split("\n")[0]),
    );
    expect(pids.every(isRunning)).toBe(true);

    const run = await cli("down", "--dir", dir);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Stopped 4 server(s) and removed ${dir}`);
    expect(existsSync(dir)).toBe(false);
    expect(pids.some(isRunning)).toBe(false);
    expect(pgrep(dir)).toEqual([]);
  });
});
