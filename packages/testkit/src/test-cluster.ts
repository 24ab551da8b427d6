/**
 * What a test can do with a cluster, whichever backend started it.
 *
 * Two backends implement it: `LocalCluster` (servers from the PostgreSQL binaries on this machine) and
 * `ContainerCluster` (one Docker container per server, through testcontainers). Tests written against
 * this interface run on either; `startTestCluster` picks one from `ARCHIPELAGO_TESTKIT_BACKEND`.
 * Everything here is done the same way on both — pg_ctl or a container's lifecycle for stop/start, SQL
 * for replication control — so a behaviour seen on one is PostgreSQL's, not the harness's.
 */
import type { ClusterConfig } from "@archipelago/topology";

export type TestClusterBackend = "local" | "testcontainers";

/** The shape of a cluster, the same for every backend. */
export interface TestClusterShape {
  /** Number of islands, numbered 1..n. @default 2 */
  readonly islands?: number;
  /** Streaming replicas per island. @default 1 */
  readonly replicasPerIsland?: number;
  /** @default "archipelago" */
  readonly database?: string;
  /** The superuser the config connects as. @default "archipelago" */
  readonly user?: string;
  /** Extra postgresql.conf settings, rendered verbatim (`{ work_mem: "'8MB'" }`). */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** The leading digit of generated IDs. @default 1 */
  readonly idEnvironment?: number;
}

export type NodeStatus = "running" | "stopped";
/** The role the node was created with; after a promotion the replica reports `master`. */
export type NodeRole = "master" | "replica";

/** Connection options in node-postgres' shape. */
export interface NodeConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** One PostgreSQL server of a test cluster. */
export interface TestNode {
  readonly island: number;
  /** 0 is the island's first master; replicas are 1..n. */
  readonly index: number;
  /** `island1-node0`; also its name in the cluster config. */
  readonly name: string;
  /** The port clients connect to (on the host, for containers). */
  readonly port: number;
  readonly role: NodeRole;
  readonly status: NodeStatus;
  /** Options for `new pg.Client(...)`. Holds the password: do not log it. */
  connection(): NodeConnection;
  /** Runs one statement on a fresh connection and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: { database?: string },
  ): Promise<Row[]>;
}

export interface TestIsland<Node extends TestNode = TestNode> {
  readonly island: number;
  readonly nodes: readonly Node[];
}

export interface TestCluster<Node extends TestNode = TestNode> {
  readonly backend: TestClusterBackend;
  readonly id: string;
  /** The config an application would load; passwords are `Secret`s. */
  readonly config: ClusterConfig;
  readonly islands: readonly TestIsland<Node>[];
  readonly nodes: readonly Node[];

  /** The island's node that currently has the master role (follows promotions done through the handle). */
  master(island: number): Node;
  replicas(island: number): Node[];
  node(island: number, index: number): Node;
  island(island: number): TestIsland<Node>;

  /** A clean, fast shutdown of one server; its data stays. */
  stopNode(node: Node): Promise<void>;
  /** An immediate shutdown, like a crash: the server runs recovery when started again. */
  killNode(node: Node): Promise<void>;
  startNode(node: Node): Promise<void>;
  /** Stops (if running) and starts the server again. */
  restartNode(node: Node): Promise<void>;
  /**
   * Promotes a running replica to master of its island (a real promotion, new timeline) and points the
   * island's other running replicas at it. Stop the old master first, or the island has two masters.
   */
  promote(replica: Node): Promise<void>;
  /** Waits until every running, unpaused replica has replayed everything its master wrote so far. */
  waitForReplication(island?: number, timeoutMs?: number): Promise<void>;
  /** Stops WAL replay on a replica (it keeps receiving), so that it lags behind its master. */
  pauseReplay(replica: Node): Promise<void>;
  resumeReplay(replica: Node): Promise<void>;
  /** Stops every server and removes everything the cluster made. Safe to call twice. */
  stop(): Promise<void>;
}
