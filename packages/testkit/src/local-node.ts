/**
 * One PostgreSQL server of a local cluster: a data folder, a port, and the pg_ctl verbs around them.
 *
 * The status is one union, not a set of booleans; it changes only after the corresponding pg_ctl call
 * has succeeded, so a failed stop leaves the node `running` and a retry does the right thing.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { Secret } from "@archipelago/topology";
import pg from "pg";
import { runAsServerUser } from "./internal/run-command.js";
import type { PostgresBinaries } from "./postgres-binaries.js";
import type { NodeConnection, NodeRole, NodeStatus, TestNode } from "./test-cluster.js";

export interface NodeCredentials {
  readonly user: string;
  readonly password: Secret;
  readonly database: string;
}

export class LocalNode implements TestNode {
  #status: NodeStatus;
  #role: NodeRole;

  constructor(
    readonly island: number,
    readonly index: number,
    readonly dir: string,
    readonly port: number,
    role: NodeRole,
    private readonly binaries: PostgresBinaries,
    private readonly credentials: NodeCredentials,
    /** `running` when reopening a folder whose server is already up (see `openLocalCluster`). */
    status: NodeStatus = "stopped",
  ) {
    this.#role = role;
    this.#status = status;
  }

  /** `island1-node0`; node 0 is the island's first master. */
  get name(): string {
    return `island${this.island}-node${this.index}`;
  }

  get dataDir(): string {
    return join(this.dir, "data");
  }

  get logFile(): string {
    return join(this.dir, "server.log");
  }

  get status(): NodeStatus {
    return this.#status;
  }

  get role(): NodeRole {
    return this.#role;
  }

  /** Options for `new pg.Client(...)`. Holds the password: do not log it. */
  connection(): NodeConnection {
    return {
      host: "127.0.0.1",
      port: this.port,
      user: this.credentials.user,
      password: this.credentials.password.reveal(),
      database: this.credentials.database,
    };
  }

  /** Appends settings to postgresql.conf (the last occurrence of a setting wins). */
  configure(settings: string): void {
    appendFileSync(join(this.dataDir, "postgresql.conf"), `\n# archipelago testkit\n${settings}`);
  }

  async start(): Promise<void> {
    if (this.#status === "running") return;
    await runAsServerUser(this.binaries.pgCtl, [
      "start",
      "--pgdata",
      this.dataDir,
      "--log",
      this.logFile,
      "--wait",
      "--timeout=60",
      "--silent",
    ]);
    this.#status = "running";
  }

  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery on restart). */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (this.#status === "stopped") return;
    await runAsServerUser(this.binaries.pgCtl, [
      "stop",
      "--pgdata",
      this.dataDir,
      "--mode",
      mode,
      "--wait",
      "--timeout=60",
      "--silent",
    ]);
    this.#status = "stopped";
  }

  /** Turns a running replica into a master (a real promotion: new timeline). */
  async promote(): Promise<void> {
    await runAsServerUser(this.binaries.pgCtl, [
      "promote",
      "--pgdata",
      this.dataDir,
      "--wait",
      "--timeout=60",
      "--silent",
    ]);
    this.#role = "master";
  }

  /** Runs one statement on a fresh connection and returns its rows. */
  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: { database?: string } = {},
  ): Promise<Row[]> {
    const client = new pg.Client({ ...this.connection(), ...options });
    await client.connect();
    try {
      const result = await client.query<Row>(sql, params as unknown[]);
      return result.rows;
    } finally {
      await client.end();
    }
  }
}
