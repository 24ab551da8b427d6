/**
 * One PostgreSQL node as the client sees it: a lazily created pool, the role it last reported, its
 * health, and its last known WAL position.
 *
 * Roles are learned, never configured: every discovery round asks each node `pg_is_in_recovery()`, and
 * a write that meets a read-only node (25006) asks again. Health is a small state union: a node that
 * refused a connection is `down` for a short while and skipped, then tried again.
 */
import type { NodeConfig } from "@archipelago/topology";
import pg from "pg";
import { NodeRemovedError } from "./client-errors.js";
import { parseLsn } from "./lsn.js";

export type NodeRole = "master" | "replica" | "unknown";

export type NodeHealth =
  | { readonly kind: "unknown" }
  | { readonly kind: "up" }
  | { readonly kind: "down"; readonly until: number };

export interface NodeProbe {
  readonly role: NodeRole;
  /** Master: current WAL insert position. Replica: last replayed position. */
  readonly position: bigint | undefined;
}

/** Every success marks its node up: one shared value rather than a new object per statement. */
const UP: NodeHealth = Object.freeze({ kind: "up" });

export class NodeHandle {
  #pool: pg.Pool | undefined;
  #role: NodeRole = "unknown";
  /** The role before it was forgotten, so that a change across a failure is still reported. */
  #lastKnownRole: NodeRole = "unknown";
  #health: NodeHealth = { kind: "unknown" };
  #position: bigint | undefined;
  #positionAt = 0;
  #ended = false;
  #probing: Promise<NodeProbe> | undefined;

  constructor(
    readonly island: number,
    readonly config: NodeConfig,
    private readonly poolOptions: pg.PoolConfig,
    private readonly nodeDownMs: number,
    private readonly onRoleChange: (change: { from: NodeRole; to: NodeRole }) => void = () => {},
  ) {}

  get name(): string {
    return this.config.name;
  }

  get role(): NodeRole {
    return this.#role;
  }

  get position(): bigint | undefined {
    return this.#position;
  }

  get positionAt(): number {
    return this.#positionAt;
  }

  get health(): NodeHealth {
    return this.#health;
  }

  /** Usable now: not marked down, or its down period is over (then it gets another chance). */
  isAvailable(now = Date.now()): boolean {
    return this.#health.kind !== "down" || this.#health.until <= now;
  }

  markDown(now = Date.now()): void {
    this.#health = { kind: "down", until: now + this.nodeDownMs };
  }

  markUp(): void {
    this.#health = UP;
  }

  /** The node's role changed under us (a 25006 on a write): forget it until the next probe. */
  forgetRole(): void {
    this.#role = "unknown";
  }

  recordPosition(position: bigint): void {
    if (this.#position === undefined || position > this.#position) this.#position = position;
    this.#positionAt = Date.now();
  }

  /** True when every connection of the pool is checked out and callers are queued. */
  isSaturated(): boolean {
    const pool = this.#pool;
    if (!pool) return false;
    return pool.totalCount >= (pool.options.max ?? 10) && pool.idleCount === 0;
  }

  /** @throws NodeRemovedError once the node was removed from the config (or the cluster ended). */
  pool(): pg.Pool {
    if (this.#ended) throw new NodeRemovedError(this.island, this.name);
    if (!this.#pool) {
      const pool = new pg.Pool({
        host: this.config.host,
        port: this.config.port,
        user: this.config.user,
        database: this.config.database,
        ...(this.config.password ? { password: this.config.password.reveal() } : {}),
        application_name: "archipelago",
        ...this.poolOptions,
      });
      // An idle connection that dies (server restart, failover) must not crash the process; the next
      // query on this node meets the failure and is classified there.
      // An idle connection that dies (idle timeout, a terminated backend, a restart) says little about
      // the node; the pool replaces it, and the next statement's own failure, if any, is classified.
      pool.on("error", () => {});
      // A checked-out connection between two statements has no query to reject: its error (a FATAL
      // from a shutting-down server) would be an uncaught exception. The next statement on it fails
      // and is classified there.
      pool.on("connect", (client) => client.on("error", () => {}));
      this.#pool = pool;
    }
    return this.#pool;
  }

  /**
   * Asks the node its role and position; updates health. Concurrent callers share one probe; a probe
   * that takes longer than `timeoutMs` (a node that silently drops packets) counts as a failure.
   */
  probe(timeoutMs = 1_000): Promise<NodeProbe> {
    if (!this.#probing) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`probe of ${this.name} timed out`)), timeoutMs);
      });
      this.#probing = Promise.race([this.#probeNow(), timeout])
        .catch((error: unknown) => {
          this.#role = "unknown";
          this.markDown();
          throw error;
        })
        .finally(() => {
          clearTimeout(timer);
          this.#probing = undefined;
        });
    }
    return this.#probing;
  }

  async #probeNow(): Promise<NodeProbe> {
    const { rows } = await this.pool().query<{ recovering: boolean; lsn: string | null }>(
      `SELECT pg_is_in_recovery() AS recovering,
              (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                    ELSE pg_current_wal_insert_lsn() END)::text AS lsn`,
    );
    const row = rows[0];
    const role: NodeRole = row?.recovering ? "replica" : "master";
    // unknown → x is learning; a real change (a promotion, a demotion) is reported.
    const from = this.#role === "unknown" ? this.#lastKnownRole : this.#role;
    if (from !== "unknown" && from !== role) this.onRoleChange({ from, to: role });
    this.#lastKnownRole = role;
    this.#role = role;
    if (row?.lsn) {
      // A probe replaces the position: after a promotion or a rebuild it may go backwards.
      this.#position = parseLsn(row.lsn);
      this.#positionAt = Date.now();
    }
    this.markUp();
    return { role: this.#role, position: this.#position };
  }

  /** Drains the pool: waits for checked-out clients, then closes every connection. */
  async end(): Promise<void> {
    this.#ended = true;
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await pool.end();
  }
}
