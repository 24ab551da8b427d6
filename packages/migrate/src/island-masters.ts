/**
 * Connections to the master of every island, for administrative work (catalog install, allocation,
 * migrations). The master is found by asking each node `pg_is_in_recovery()`: roles are never
 * configured. This is deliberately simpler than the client runtime's discovery: admin tools run briefly,
 * and when a master fails mid-run they stop with a clear error and are run again.
 */

import type { ClusterConfig, NodeConfig } from "@archipelago/topology";
import pg from "pg";
import { NoMasterError } from "./migrate-errors.js";

export class IslandMasters {
  readonly #pools = new Map<number, Promise<pg.Pool>>();
  readonly #masterNodes = new Map<number, NodeConfig>();
  readonly #retired: Promise<pg.Pool>[] = [];

  constructor(
    readonly config: ClusterConfig,
    private readonly options: { connectTimeoutMs?: number; poolSize?: number } = {},
  ) {}

  get islandNumbers(): number[] {
    return this.config.islands.map((i) => i.island);
  }

  /** The pool of the island's master, found on first use. @throws NoMasterError */
  pool(island: number): Promise<pg.Pool> {
    let pool = this.#pools.get(island);
    if (!pool) {
      pool = this.#findMaster(island);
      // A failed lookup is not cached: the next call probes again.
      pool.catch(() => {
        if (this.#pools.get(island) === pool) this.#pools.delete(island);
      });
      this.#pools.set(island, pool);
    }
    return pool;
  }

  /** The config of the node found to be the island's master (looked up if needed). */
  async masterNode(island: number): Promise<NodeConfig> {
    await this.pool(island);
    const node = this.#masterNodes.get(island);
    if (!node) throw new NoMasterError(island, ["no master was found"]);
    return node;
  }

  /**
   * Forgets the island's master (after a connection failure: it may have failed over), so that the
   * next use looks it up again. The old pool is closed once its connections are released.
   */
  forget(island: number): void {
    const pool = this.#pools.get(island);
    this.#pools.delete(island);
    this.#masterNodes.delete(island);
    // Callers may still hold the old pool (or clients of it): it is closed with the others in end().
    if (pool) this.#retired.push(pool);
  }

  /**
   * A connection of its own to the island's master, outside the pool, for session-long advisory
   * locks: holding those on pooled connections would starve the pool's short queries. The caller
   * ends it (ending it releases the locks).
   */
  async connectDedicated(island: number): Promise<pg.Client> {
    const node = await this.masterNode(island);
    const client = new pg.Client(poolOptions(node, this.options));
    // A connection that dies while held fails its next statement, which is handled there.
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  /** Runs `work` on one dedicated connection to the island's master. */
  async withClient<T>(island: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await (await this.pool(island)).connect();
    let result: T;
    try {
      result = await work(client);
    } catch (error) {
      // The session may still hold advisory locks or an open transaction: never reuse it.
      client.release(true);
      throw error;
    }
    client.release();
    return result;
  }

  async end(): Promise<void> {
    const pools = await Promise.allSettled([...this.#pools.values(), ...this.#retired.splice(0)]);
    this.#pools.clear();
    await Promise.all(pools.map((p) => (p.status === "fulfilled" ? p.value.end() : undefined)));
  }

  async #findMaster(island: number): Promise<pg.Pool> {
    const islandConfig = this.config.islands.find((i) => i.island === island);
    if (!islandConfig) throw new NoMasterError(island, ["the island is not in the config"]);
    const reasons: string[] = [];
    for (const node of islandConfig.nodes) {
      const pool = new pg.Pool({
        ...poolOptions(node, this.options),
        max: this.options.poolSize ?? 4,
      });
      pool.on("error", () => {
        // An idle connection died (server restart); the pool replaces it on next use.
      });
      // A checked-out connection whose server goes away between statements must not crash the
      // process; its next statement fails and that failure is handled where it happens.
      pool.on("connect", (client) => client.on("error", () => {}));
      try {
        const { rows } = await pool.query<{ recovering: boolean }>(
          "SELECT pg_is_in_recovery() AS recovering",
        );
        if (rows[0]?.recovering === false) {
          this.#masterNodes.set(island, node);
          return pool;
        }
        reasons.push(`${node.name} is a replica`);
      } catch (error) {
        reasons.push(`${node.name}: ${(error as Error).message}`);
      }
      await pool.end();
    }
    throw new NoMasterError(island, reasons);
  }
}

/** node-postgres options for a node; the only place a password is revealed. */
export function poolOptions(
  node: NodeConfig,
  options: { connectTimeoutMs?: number } = {},
): pg.PoolConfig {
  return {
    host: node.host,
    port: node.port,
    user: node.user,
    database: node.database,
    ...(node.password ? { password: node.password.reveal() } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: "archipelago-admin",
  };
}
