/**
 * Reads what `archipelago status` shows: each island's nodes with their roles (asked of each node,
 * `pg_is_in_recovery()`, never configured), its catalog rows with the size of each copy, and the
 * imbalance. Everything is read in parallel and per island, so one island that does not answer is
 * shown as such instead of hiding the others.
 */
import { type IslandMasters, poolOptions } from "@archipelago/migrate";
import {
  type ClusterConfig,
  checkPlacementInvariant,
  type MicroshardState,
  type NodeConfig,
  type PlacementViolation,
} from "@archipelago/topology";
import pg from "pg";
import { type Imbalance, islandImbalance } from "../plan/island-imbalance.js";

export interface NodeStatus {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly role: "master" | "replica" | "down";
  /** For a replica: WAL bytes it has still to replay, relative to its island's master. */
  readonly lagBytes: number | null;
  /** Why the node counts as down. */
  readonly error: string | null;
}

export interface MicroshardStatus {
  readonly microshard: number;
  readonly schema: string;
  readonly state: MicroshardState;
  readonly generation: number;
  readonly weightFactor: number;
  /** Tables, their indexes and TOAST, materialized views and sequences of the copy's schema. */
  readonly bytes: number;
}

export interface IslandStatus {
  readonly island: number;
  readonly weight: number;
  readonly draining: boolean;
  /** Holds shard 0 and the control catalog (jobs). */
  readonly global: boolean;
  readonly nodes: readonly NodeStatus[];
  readonly microshards: readonly MicroshardStatus[];
  /** Bytes of the copies active here (what the island serves); null when the catalog was not read. */
  readonly activeBytes: number | null;
  /** Bytes of every copy here, including ones being received or waiting for cleanup. */
  readonly totalBytes: number | null;
  /** Active size relative to the island's weighted fair share (see island-imbalance.ts). */
  readonly load: number | null;
  /** Why the catalog could not be read. */
  readonly error: string | null;
}

export interface ClusterStatus {
  readonly globalIsland: number;
  readonly islands: readonly IslandStatus[];
  /** The fullest island's load: 1.00 = even. Null when an island's catalog could not be read. */
  readonly imbalance: number | null;
  /** Breaches of the placement invariant (e.g. active on two islands); empty when healthy. */
  readonly violations: readonly PlacementViolation[];
}

// pg_total_relation_size of a table already includes its indexes and TOAST, so only tables, matviews
// and sequences are summed (adding relkind 'i' would count indexes twice).
const CATALOG_WITH_SIZES_SQL = `
SELECT m.microshard, m.state, m.generation, m.weight_factor, m.schema_name,
       coalesce((SELECT sum(pg_total_relation_size(c.oid))
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = m.schema_name AND c.relkind IN ('r', 'm', 'S')), 0)::text AS bytes
FROM archipelago.microshards m
ORDER BY m.microshard`;

export async function readClusterStatus(
  config: ClusterConfig,
  masters: IslandMasters,
): Promise<ClusterStatus> {
  const islands = await Promise.all(
    config.islands.map(async (island) => {
      const [nodes, catalog] = await Promise.all([
        Promise.all(island.nodes.map(probeNode)),
        readCatalogWithSizes(masters, island.island).then(
          (rows) => ({ rows, error: null }),
          (error: unknown) => ({ rows: null, error: (error as Error).message }),
        ),
      ]);
      const master = nodes.find((n) => n.role === "master");
      const masterLsn = master?.lsn;
      return {
        island: island.island,
        weight: island.weight,
        draining: island.draining,
        global: island.island === config.globalIsland,
        nodes: nodes.map(({ lsn, ...node }) => ({
          ...node,
          lagBytes:
            node.role === "replica" && masterLsn !== undefined && lsn !== undefined
              ? Math.max(0, Number(lsnValue(masterLsn) - lsnValue(lsn)))
              : null,
        })),
        microshards: catalog.rows ?? [],
        activeBytes: catalog.rows ? sum(catalog.rows.filter((r) => r.state === "active")) : null,
        totalBytes: catalog.rows ? sum(catalog.rows) : null,
        error: catalog.error,
      };
    }),
  );
  const imbalance: Imbalance = islandImbalance(
    islands.map((i) => ({
      island: i.island,
      weight: i.weight,
      draining: i.draining,
      bytes: i.activeBytes,
    })),
  );
  const allRead = islands.every((i) => i.error === null);
  return {
    globalIsland: config.globalIsland,
    islands: islands.map((i) => ({
      ...i,
      load: imbalance.islands.find((l) => l.island === i.island)?.load ?? null,
    })),
    imbalance: imbalance.ratio,
    violations: allRead
      ? checkPlacementInvariant(
          islands.flatMap((i) => i.microshards.map((m) => ({ ...m, island: i.island }))),
        )
      : [],
  };
}

function sum(rows: readonly MicroshardStatus[]): number {
  return rows.reduce((total, r) => total + r.bytes, 0);
}

async function readCatalogWithSizes(
  masters: IslandMasters,
  island: number,
): Promise<MicroshardStatus[]> {
  const pool = await masters.pool(island);
  const { rows } = await pool.query<{
    microshard: number;
    state: MicroshardState;
    generation: number;
    weight_factor: number;
    schema_name: string;
    bytes: string;
  }>(CATALOG_WITH_SIZES_SQL);
  return rows.map((r) => ({
    microshard: r.microshard,
    schema: r.schema_name,
    state: r.state,
    generation: r.generation,
    weightFactor: r.weight_factor,
    bytes: Number(r.bytes),
  }));
}

type ProbedNode = Omit<NodeStatus, "lagBytes"> & { readonly lsn?: string };

async function probeNode(node: NodeConfig): Promise<ProbedNode> {
  const base = { name: node.name, host: node.host, port: node.port };
  const client = new pg.Client({
    ...poolOptions(node, { connectTimeoutMs: 3_000 }),
    query_timeout: 5_000,
  });
  client.on("error", () => {}); // a connection dropped after the probe: nothing to do
  try {
    await client.connect();
    const { rows } = await client.query<{ recovering: boolean; lsn: string | null }>(
      `SELECT pg_is_in_recovery() AS recovering,
              (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                    ELSE pg_current_wal_lsn() END)::text AS lsn`,
    );
    const row = rows[0];
    return {
      ...base,
      role: row?.recovering ? "replica" : "master",
      error: null,
      ...(row?.lsn ? { lsn: row.lsn } : {}),
    };
  } catch (error) {
    return { ...base, role: "down", error: (error as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}

/** "16/B374D848" → its position in bytes. */
function lsnValue(lsn: string): bigint {
  const [high = "0", low = "0"] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}
