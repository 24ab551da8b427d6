/**
 * Leadership among shard manager processes: a PostgreSQL session advisory lock on the control island's
 * master, held on a dedicated connection for as long as the process leads.
 *
 * Exactly one session can hold the lock, and PostgreSQL releases it when that session ends, so a leader
 * that dies (or loses its connection, or whose master fails over) stops leading without anyone's help,
 * and the next candidate to try takes over. A leader that cannot reach its connection any more assumes
 * it lost the lead and stops its work at once: it must never act on a lease it may no longer hold.
 */
import { type IslandMasters, poolOptions } from "@archipelago/migrate";
import { advisoryLock } from "@archipelago/topology";
import pg from "pg";

/** A lease whose connection does not answer within this long counts as lost. */
const CHECK_TIMEOUT_MS = 5_000;

export class LeaderLease {
  #client: pg.Client | undefined;
  #since: Date | undefined;

  constructor(
    private readonly masters: IslandMasters,
    private readonly island: number,
  ) {}

  get held(): boolean {
    return this.#client !== undefined;
  }

  get since(): Date | undefined {
    return this.#since;
  }

  /** Tries once to take the lead; true when this process now leads. */
  async tryAcquire(): Promise<boolean> {
    if (this.#client) return true;
    const node = await this.masters.masterNode(this.island);
    const client = new pg.Client({
      ...poolOptions(node, { connectTimeoutMs: 3_000 }),
      application_name: "archipelago-manager",
      query_timeout: CHECK_TIMEOUT_MS,
    });
    // A dropped connection is noticed by `check` (its next query fails); nothing to do here.
    client.on("error", () => {});
    try {
      await client.connect();
      const [namespace, key] = advisoryLock("managerLeader");
      const { rows } = await client.query<{ got: boolean }>(
        "SELECT pg_try_advisory_lock($1, $2) AS got",
        [namespace, key],
      );
      if (!rows[0]?.got) {
        await client.end().catch(() => {});
        return false;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.#client = client;
    this.#since = new Date();
    return true;
  }

  /** Whether the lease is still held: its connection must answer (a lost session lost the lock). */
  async check(): Promise<boolean> {
    const client = this.#client;
    if (!client) return false;
    try {
      await client.query("SELECT 1");
      return true;
    } catch {
      this.#drop(client);
      return false;
    }
  }

  /** Gives the lead up (ending the session releases the lock). */
  async release(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#drop(client);
    await client.end().catch(() => {});
  }

  #drop(client: pg.Client): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#since = undefined;
    }
    void client.end().catch(() => {});
  }
}
