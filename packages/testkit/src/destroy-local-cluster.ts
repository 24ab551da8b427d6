/**
 * Stops every server of a cluster folder and removes the folder, from the manifest alone (the CLI's
 * `down`). It needs neither the config file nor a working handle, so it also cleans a folder whose start
 * failed half-way or whose config file was deleted.
 *
 * Servers get a fast shutdown through pg_ctl first (clean, so a log reader sees an ordinary stop); any
 * server that does not go within pg_ctl's timeout gets the registry's SIGQUIT/SIGKILL teardown.
 */
import { resolve } from "node:path";
import {
  destroyClusterSync,
  MANIFEST_FILE,
  postmasterPid,
  readManifest,
} from "./cluster-registry.js";
import { NoClusterError } from "./errors.js";
import { runAsServerUser } from "./internal/run-command.js";
import { findPostgresBinaries } from "./postgres-binaries.js";

export interface DestroyedCluster {
  readonly id: string;
  readonly dir: string;
  /** How many servers were running and got stopped. */
  readonly stoppedServers: number;
}

/** @throws NoClusterError when the folder has no manifest (nothing is removed then). */
export async function destroyLocalCluster(dir: string): Promise<DestroyedCluster> {
  const clusterDir = resolve(dir);
  const manifest = readManifest(clusterDir);
  if (manifest === undefined) throw new NoClusterError(clusterDir, MANIFEST_FILE);
  const running = manifest.dataDirs.filter((d) => postmasterPid(d) !== undefined);
  if (running.length > 0) {
    const { pgCtl } = findPostgresBinaries();
    await Promise.allSettled(
      running.map((dataDir) =>
        runAsServerUser(pgCtl, [
          "stop",
          "--pgdata",
          dataDir,
          "--mode",
          "fast",
          "--wait",
          "--timeout=30",
          "--silent",
        ]),
      ),
    );
  }
  destroyClusterSync(clusterDir, manifest.dataDirs);
  return { id: manifest.id, dir: clusterDir, stoppedServers: running.length };
}
