/**
 * Never leave a server behind.
 *
 * Every cluster the testkit starts writes a manifest (owner pid, data folders) into a folder under one
 * registry root. Three nets catch a cluster whose owner did not stop it:
 * 1. `stop()` (the normal path);
 * 2. exit hooks: on `exit`, SIGINT, SIGTERM and uncaught errors the owner shuts its servers down
 *    synchronously (SIGQUIT to each postmaster: an immediate shutdown) and removes the folders;
 * 3. a sweep at the next start (and in the test runner's global setup): a manifest whose owner process is
 *    gone marks a stale cluster from a crashed run, whose servers are stopped and folders removed.
 * Clusters started with a `dir` (the CLI's) are `persistent`: they outlive their owner on purpose, so no
 * exit hook is registered for them and the sweep skips them; `stop()` or `archipelago-local down` ends them.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ClusterManifest {
  readonly id: string;
  readonly ownerPid: number;
  readonly persistent: boolean;
  readonly createdAt: string;
  /** Every data folder, whether or not its server got started: what teardown looks at. */
  readonly dataDirs: readonly string[];
  /** The node layout, so that `openLocalCluster` can rebuild the handle from the folder. */
  readonly nodes?: readonly ManifestNode[];
}

export interface ManifestNode {
  readonly island: number;
  readonly index: number;
  readonly port: number;
  readonly dir: string;
}

/** Where ephemeral clusters live; `ARCHIPELAGO_TESTKIT_DIR` overrides it. */
export function registryRoot(): string {
  return process.env.ARCHIPELAGO_TESTKIT_DIR ?? join(tmpdir(), "archipelago-testkit");
}

export const MANIFEST_FILE = "cluster.json";

export function writeManifest(clusterDir: string, manifest: ClusterManifest): void {
  writeFileSync(join(clusterDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readManifest(clusterDir: string): ClusterManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(clusterDir, MANIFEST_FILE), "utf8")) as ClusterManifest;
  } catch {
    return undefined;
  }
}

/** The pid of the postmaster running on a data folder, if one is running. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process still runs. A zombie does not: a postmaster that exited stays a zombie until its
 * parent (init, after pg_ctl let go of it) reaps it; counting it as alive made teardown wait for init
 * (about 1 s per sweep here, up to the 5 s grace period) and then SIGKILL a pid that may be reused.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // "pid (comm) state …": comm may hold spaces and parentheses, so the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.charAt(stat.lastIndexOf(")") + 2) === "Z";
  } catch {
    return false; // no procfs (macOS): trust kill(0)
  }
}

/**
 * Stops every server of a cluster at once and removes its folder. Synchronous so that it can run in an
 * `exit` handler. SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its children along.
 */
export function destroyClusterSync(clusterDir: string, dataDirs: readonly string[]): void {
  const pids = dataDirs.map(postmasterPid).filter((p): p is number => p !== undefined);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited between the check and the kill
    }
  }
  rmSync(clusterDir, { recursive: true, force: true });
}

/** Removes clusters whose owner process is gone. Returns the ids it cleaned. */
export function sweepStaleClusters(root: string = registryRoot()): string[] {
  if (!existsSync(root)) return [];
  const cleaned: string[] = [];
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    const manifest = readManifest(dir);
    if (manifest === undefined) {
      // A folder with no manifest is a start that died before writing it; its servers cannot have
      // started (the manifest is written first), so only the folder is left.
      if (folderAgeMs(dir) > 60_000) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (manifest.persistent || isAlive(manifest.ownerPid)) continue;
    destroyClusterSync(dir, manifest.dataDirs);
    cleaned.push(manifest.id);
  }
  return cleaned;
}

const liveClusters = new Map<string, () => void>();
let hooksInstalled = false;

/** Registers a cluster for synchronous teardown if the process exits without stopping it. */
export function trackForExit(id: string, destroy: () => void): void {
  liveClusters.set(id, destroy);
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", destroyAllTracked);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      destroyAllTracked();
      // Re-raise with the default handler so the exit code still tells that a signal ended us.
      process.kill(process.pid, signal);
    });
  }
}

export function untrackForExit(id: string): void {
  liveClusters.delete(id);
}

function destroyAllTracked(): void {
  for (const destroy of liveClusters.values()) {
    try {
      destroy();
    } catch {
      // best effort while exiting; the next sweep catches what is left
    }
  }
  liveClusters.clear();
}

function folderAgeMs(dir: string): number {
  try {
    const { mtimeMs } = statSync(dir);
    return Date.now() - mtimeMs;
  } catch {
    return 0;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
