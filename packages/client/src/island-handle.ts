/**
 * One island as the client sees it: its nodes, which of them is the master now, and replica choice.
 *
 * `probeRoles()` asks every node at once and is coalesced: when a failover makes a hundred queries fail
 * together, the island is probed once and they all wait for that one answer.
 */
import type { NodeHandle } from "./node-handle.js";

export class IslandHandle {
  #probing: Promise<NodeHandle | undefined> | undefined;
  #nextReplica = 0;

  constructor(
    readonly island: number,
    readonly nodes: readonly NodeHandle[],
  ) {}

  /**
   * The available node that reported itself master. Two masters at once (an old master not fenced
   * after a promotion) means none: writing to the wrong one would lose acknowledged writes, so writes
   * wait (and fail at their deadline) until only one remains.
   */
  master(now = Date.now()): NodeHandle | undefined {
    // Asked once per statement: a loop, not a filtered copy of the node list.
    let found: NodeHandle | undefined;
    for (const node of this.nodes) {
      if (node.role !== "master" || !node.isAvailable(now)) continue;
      if (found) return undefined;
      found = node;
    }
    return found;
  }

  /**
   * An available replica that has replayed at least `minPosition` (round robin among those), or
   * undefined when none qualifies.
   */
  replica(minPosition: bigint | undefined, now = Date.now()): NodeHandle | undefined {
    const candidates = this.nodes.filter(
      (n) =>
        n.role === "replica" &&
        n.isAvailable(now) &&
        (minPosition === undefined || (n.position !== undefined && n.position >= minPosition)),
    );
    if (candidates.length === 0) return undefined;
    this.#nextReplica = (this.#nextReplica + 1) % candidates.length;
    return candidates[this.#nextReplica];
  }

  get replicaNodes(): NodeHandle[] {
    return this.nodes.filter((n) => n.role === "replica");
  }

  /** Probes every node's role and position; resolves with the master found (coalesced). */
  probeRoles(): Promise<NodeHandle | undefined> {
    if (!this.#probing) {
      // Nodes marked down are skipped until their down period ends, so one dead node does not make
      // every probe of its island wait for a connect timeout.
      const candidates = this.nodes.filter((n) => n.isAvailable());
      this.#probing = Promise.allSettled(
        (candidates.length > 0 ? candidates : this.nodes).map((n) => n.probe()),
      )
        .then(() => this.master())
        .finally(() => {
          this.#probing = undefined;
        });
    }
    return this.#probing;
  }

  async end(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.end()));
  }
}
