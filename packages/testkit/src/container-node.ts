/**
 * One PostgreSQL server of a container cluster: a Docker container whose PID 1 is the postmaster.
 *
 * Because the postmaster is PID 1, the container's lifecycle is the server's: a fast shutdown is
 * `docker stop` (the postgres image's stop signal is SIGINT, PostgreSQL's fast shutdown), a crash is
 * SIGQUIT (immediate shutdown, recovery on the next start), and a start is `docker start`, which runs the
 * entrypoint again on the existing data volume. The host port is bound explicitly, so it survives
 * restarts and the cluster config stays valid.
 */
import pg from "pg";
import type { ContainerRuntimeClient, StartedTestContainer } from "testcontainers";
import { WaitTimeoutError } from "./errors.js";
import { acceptsConnections } from "./internal/replication.js";
import { waitFor } from "./internal/wait-for.js";
import type { NodeCredentials } from "./local-node.js";
import type { NodeConnection, NodeRole, NodeStatus, TestNode } from "./test-cluster.js";

/** The port every server listens on inside its container. */
export const CONTAINER_PORT = 5432;

export class ContainerNode implements TestNode {
  #status: NodeStatus = "running";
  #role: NodeRole;

  constructor(
    readonly island: number,
    readonly index: number,
    readonly port: number,
    role: NodeRole,
    readonly container: StartedTestContainer,
    private readonly runtime: ContainerRuntimeClient,
    private readonly credentials: NodeCredentials,
  ) {
    this.#role = role;
  }

  get name(): string {
    return `island${this.island}-node${this.index}`;
  }

  /** The name other containers of the cluster's network reach it by. */
  get alias(): string {
    return this.name;
  }

  get status(): NodeStatus {
    return this.#status;
  }

  get role(): NodeRole {
    return this.#role;
  }

  connection(): NodeConnection {
    return {
      host: this.container.getHost(),
      port: this.port,
      user: this.credentials.user,
      password: this.credentials.password.reveal(),
      database: this.credentials.database,
    };
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.#status === "running") return;
    await this.runtime.container.start(this.#docker());
    await waitFor(
      () => acceptsConnections(this),
      `${this.name} to accept connections`,
      timeoutMs,
      100,
    );
    this.#status = "running";
  }

  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (this.#status === "stopped") return;
    const docker = this.#docker();
    if (mode === "fast") {
      await this.runtime.container.stop(docker, { timeout: 60 });
    } else {
      await docker.kill({ signal: "SIGQUIT" });
      await docker.wait();
    }
    this.#status = "stopped";
  }

  /** A real promotion through SQL (`pg_promote` waits until the server left recovery). */
  async promote(): Promise<void> {
    const [row] = await this.query<{ promoted: boolean }>(
      "SELECT pg_promote(true, 60) AS promoted",
    );
    if (row?.promoted !== true)
      throw new WaitTimeoutError(`${this.name} to finish promoting`, 60_000);
    this.#role = "master";
  }

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

  #docker() {
    return this.runtime.container.getById(this.container.getId());
  }
}
