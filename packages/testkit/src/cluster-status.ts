/**
 * A point-in-time report of every node: up or not, the role PostgreSQL itself reports
 * (`pg_is_in_recovery()`, not the role the harness remembers), and how far each replica's replay trails
 * its island's master, in bytes of WAL.
 *
 * Lag is the master's current WAL position minus the replica's replay position, read at nearly the same
 * moment; it is clamped at 0, since the two reads are not atomic. It is `null` when the island has no
 * running master to compare with.
 */

import { lsnToBigInt } from "./internal/lsn.js";
import type { NodeRole, TestCluster, TestNode } from "./test-cluster.js";

export interface NodeStatusReport {
  readonly island: number;
  readonly index: number;
  readonly name: string;
  readonly port: number;
  readonly running: boolean;
  /** What the server says now; `null` when it is stopped or did not answer. */
  readonly role: NodeRole | null;
  /** Replicas only: bytes of WAL not yet replayed. */
  readonly lagBytes: number | null;
  /** Replicas only: whether replay is paused (`pauseReplay`). */
  readonly replayPaused: boolean | null;
  /** The SQLSTATE or errno code when a running server did not answer. */
  readonly error: string | null;
}

interface Probe {
  readonly recovering: boolean;
  readonly lsn: string | null;
  readonly paused: boolean | null;
}

export async function clusterStatus(cluster: TestCluster): Promise<NodeStatusReport[]> {
  const probes = await Promise.all(cluster.nodes.map(probe));
  const masterLsn = new Map<number, bigint>();
  cluster.nodes.forEach((node, i) => {
    const p = probes[i];
    if (p && !(p instanceof ProbeFailure) && !p.recovering && p.lsn !== null) {
      masterLsn.set(node.island, lsnToBigInt(p.lsn));
    }
  });
  return cluster.nodes.map((node, i): NodeStatusReport => {
    const p = probes[i];
    const base = { island: node.island, index: node.index, name: node.name, port: node.port };
    if (p === undefined) {
      return {
        ...base,
        running: false,
        role: null,
        lagBytes: null,
        replayPaused: null,
        error: null,
      };
    }
    if (p instanceof ProbeFailure) {
      return {
        ...base,
        running: true,
        role: null,
        lagBytes: null,
        replayPaused: null,
        error: p.code,
      };
    }
    const master = masterLsn.get(node.island);
    const lag =
      p.recovering && master !== undefined && p.lsn !== null
        ? Number(bigMax(master - lsnToBigInt(p.lsn), 0n))
        : null;
    return {
      ...base,
      running: true,
      role: p.recovering ? "replica" : "master",
      lagBytes: lag,
      replayPaused: p.recovering ? p.paused : null,
      error: null,
    };
  });
}

class ProbeFailure {
  constructor(readonly code: string) {}
}

async function probe(node: TestNode): Promise<Probe | ProbeFailure | undefined> {
  if (node.status !== "running") return undefined;
  try {
    const [row] = await node.query<{
      recovering: boolean;
      lsn: string | null;
      paused: boolean | null;
    }>(
      `SELECT pg_is_in_recovery() AS recovering,
              CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text AS lsn,
              CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused`,
    );
    if (row === undefined) return new ProbeFailure("NO_ROW");
    return row;
  } catch (error) {
    return new ProbeFailure(String((error as { code?: unknown }).code ?? "UNREACHABLE"));
  }
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
