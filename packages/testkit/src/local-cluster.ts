/**
 * The handle of a cluster of real PostgreSQL servers started from the binaries on this machine.
 *
 * Stop/start go through pg_ctl as the server user; replication control is SQL shared with the container
 * backend (`internal/replication.ts`). `stop()` is the one teardown: it stops every server and removes
 * the cluster's folder, and it is what the exit hooks and the stale sweep also do when a process dies
 * without calling it (`cluster-registry.ts`).
 */
import type { ClusterConfig } from "@archipelago/topology";
import { destroyClusterSync, untrackForExit } from "./cluster-registry.js";
import { findIsland, findMaster, findNode, findReplicas } from "./internal/island-lookup.js";
import {
  followMaster,
  pauseReplay,
  resumeReplay,
  waitForReplay,
  waitUntilPromoted,
} from "./internal/replication.js";
import { quoteConninfoValue } from "./internal/sql-quote.js";
import { passfilePath } from "./local-cluster-files.js";
import type { LocalNode } from "./local-node.js";
import type { TestCluster, TestIsland } from "./test-cluster.js";

export type LocalIsland = TestIsland<LocalNode>;

export class LocalCluster implements TestCluster<LocalNode> {
  readonly backend = "local" as const;
  #state: "running" | "stopped" = "running";

  constructor(
    readonly id: string,
    /** The folder holding every data folder, log and passfile of the cluster. */
    readonly dir: string,
    readonly islands: readonly LocalIsland[],
    readonly config: ClusterConfig,
    /** Started with `dir` (the CLI): not tied to this process, never swept. */
    readonly persistent: boolean,
  ) {}

  get nodes(): readonly LocalNode[] {
    return this.islands.flatMap((i) => i.nodes);
  }

  master(island: number): LocalNode {
    return findMaster(this.islands, island);
  }

  replicas(island: number): LocalNode[] {
    return findReplicas(this.islands, island);
  }

  node(island: number, index: number): LocalNode {
    return findNode(this.islands, island, index);
  }

  island(island: number): LocalIsland {
    return findIsland(this.islands, island);
  }

  stopNode(node: LocalNode): Promise<void> {
    return node.stop("fast");
  }

  killNode(node: LocalNode): Promise<void> {
    return node.stop("immediate");
  }

  async restartNode(node: LocalNode): Promise<void> {
    await node.stop("fast");
    await node.start();
  }

  startNode(node: LocalNode): Promise<void> {
    return node.start();
  }

  /**
   * Bringing the old master back as a replica needs pg_rewind and is out of scope here: stop it before
   * promoting, and leave it stopped.
   */
  async promote(replica: LocalNode): Promise<void> {
    await replica.promote();
    await waitUntilPromoted(replica);
    const user = replica.connection().user;
    for (const other of this.island(replica.island).nodes) {
      if (other === replica || other.role !== "replica" || other.status !== "running") continue;
      const conninfo = [
        "host=127.0.0.1",
        `port=${replica.port}`,
        `user=${quoteConninfoValue(user)}`,
        `passfile=${quoteConninfoValue(passfilePath(this.dir))}`,
        `application_name=${other.name}`,
      ].join(" ");
      await followMaster(other, replica, conninfo);
    }
  }

  async waitForReplication(island?: number, timeoutMs = 30_000): Promise<void> {
    const islands = island === undefined ? this.islands : [this.island(island)];
    await Promise.all(
      islands.map(({ island: number }) =>
        waitForReplay(this.master(number), this.replicas(number), timeoutMs),
      ),
    );
  }

  pauseReplay(replica: LocalNode): Promise<void> {
    return pauseReplay(replica);
  }

  resumeReplay(replica: LocalNode): Promise<void> {
    return resumeReplay(replica);
  }

  /** Stops every server and removes the cluster's folder (for a persistent cluster too). */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    await Promise.allSettled(this.nodes.map((n) => n.stop("immediate")));
    destroyClusterSync(
      this.dir,
      this.nodes.map((n) => n.dataDir),
    );
    untrackForExit(this.id);
    this.#state = "stopped";
  }
}
