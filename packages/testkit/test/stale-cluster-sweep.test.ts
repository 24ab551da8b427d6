/**
 * A test process that dies by SIGKILL runs no exit hook: its servers keep running. The next start (or
 * the runner's global setup) sweeps the registry root; this checks that the sweep finds such a cluster
 * by its dead owner pid, stops its servers and removes its folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sweepStaleClusters } from "../src/index.js";
import { isRunning } from "./helpers/processes.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/start-cluster-and-wait.ts", import.meta.url));
// The server user must be able to traverse the root (mkdtemp makes it 0700, owned by us).
const root = mkdtempSync(join(tmpdir(), "archipelago-sweep-test-"));
chmodSync(root, 0o755);
let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  sweepStaleClusters(root);
  rmSync(root, { recursive: true, force: true });
});

interface Started {
  readonly pid: number;
  readonly dir: string;
  readonly dataDirs: readonly string[];
}

function startChild(): Promise<Started> {
  // Plain node with tsx's loader (not `npx tsx`, which adds wrapper processes): the pid we kill is
  // the pid the manifest names as owner.
  child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", fixture], {
    cwd: packageDir,
    env: { ...process.env, ARCHIPELAGO_TESTKIT_DIR: root },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const started = child;
  return new Promise((resolve, reject) => {
    started.once("exit", (code) => reject(new Error(`fixture exited early (code ${code})`)));
    createInterface({ input: started.stdout as NodeJS.ReadableStream }).once("line", (line) =>
      resolve(JSON.parse(line) as Started),
    );
  });
}

function postmasterPids(dataDirs: readonly string[]): number[] {
  return dataDirs.map((d) =>
    Number(readFileSync(join(d, "postmaster.pid"), "utf8").split("\n")[0]),
  );
}

describe("sweepStaleClusters", () => {
  it("stops the servers of a cluster whose owner was SIGKILLed and removes its folder", async () => {
    const started = await startChild();
    expect(started.pid).toBe(child?.pid);
    const pids = postmasterPids(started.dataDirs);
    expect(pids.every(isRunning)).toBe(true);

    // While the owner lives, the sweep must leave its cluster alone.
    expect(sweepStaleClusters(root)).toEqual([]);
    expect(existsSync(started.dir)).toBe(true);

    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child?.kill("SIGKILL");
    await exited;
    // No exit hook ran: the servers outlive their owner.
    expect(pids.every(isRunning)).toBe(true);

    const cleaned = sweepStaleClusters(root);

    expect(cleaned).toHaveLength(1);
    expect(pids.some(isRunning)).toBe(false);
    expect(existsSync(started.dir)).toBe(false);
  });
});
