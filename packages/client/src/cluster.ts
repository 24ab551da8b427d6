/**
 * The entry point: a `Cluster` built from the topology config, holding one pool per node, discovery,
 * the executor and the batch loader.
 *
 * Lazy: nothing connects until the first query, whose first lookup triggers the first discovery round
 * (which then keeps refreshing in the background). The config can be replaced at run time: nodes that
 * stay keep their pools, new ones get pools on first use, and removed ones are drained (`pool.end()`
 * waits for checked-out connections), so in-flight queries finish.
 */

import { createHash } from "node:crypto";
import {
  type ClusterConfig,
  GLOBAL_MICROSHARD,
  InvalidIdError,
  isWellFormedId,
  microshardNumber,
  microshardOfId,
  type NodeConfig,
} from "@archipelago/topology";
import { type ClusterOptions, validateClusterOptions } from "./cluster-options.js";

export type { ClusterOptions } from "./cluster-options.js";

import { BatchLoader } from "./batch-loader.js";
import { BatchWriter } from "./batch-writer.js";
import { ClientEvents } from "./client-events.js";
import { CLIENT_DEFAULTS } from "./defaults.js";
import { Discovery, type MapSource } from "./discovery.js";
import { Executor } from "./executor.js";
import { microshardDigits } from "./internal/microshard-digits.js";
import { IslandHandle } from "./island-handle.js";
import { formatLsn } from "./lsn.js";
import { NodeHandle, type NodeHealth, type NodeRole } from "./node-handle.js";
import { parseRetryPolicy, type RetryPolicy } from "./retry-policy.js";
import { Session } from "./session.js";
import { Shard } from "./shard.js";
import type { ShardMap } from "./shard-map.js";

export interface IslandStatus {
  readonly island: number;
  readonly nodes: readonly {
    readonly name: string;
    readonly role: NodeRole;
    readonly health: NodeHealth["kind"];
    readonly position: string | undefined;
  }[];
  readonly microshards: readonly number[];
}

export class Cluster {
  readonly events = new ClientEvents();
  #config: ClusterConfig;
  #islands = new Map<number, IslandHandle>();
  readonly #nodes = new Map<string, NodeHandle>();
  readonly #discovery: Discovery;
  readonly #executor: Executor;
  readonly #loader: BatchLoader;
  readonly #writer: BatchWriter;
  readonly #policy: RetryPolicy;
  readonly #shards = new Map<number, Shard>();
  #positionTimer: NodeJS.Timeout | undefined;
  #state: "idle" | "running" | "ended" = "idle";

  private readonly options: ClusterOptions;

  /** @throws InvalidConfigError naming the option that is out of range */
  constructor(config: ClusterConfig, options: ClusterOptions = {}) {
    this.options = validateClusterOptions(options);
    this.#config = config;
    this.#policy = parseRetryPolicy(options.retry);
    this.#discovery = new Discovery(
      () => [...this.#islands.values()],
      {
        intervalMs: options.discoveryIntervalMs ?? CLIENT_DEFAULTS.discoveryIntervalMs,
        jitter: options.discoveryJitter ?? CLIENT_DEFAULTS.discoveryJitter,
        minIntervalMs: options.rediscoverMinIntervalMs ?? CLIENT_DEFAULTS.rediscoverMinIntervalMs,
        islandTimeoutMs:
          options.discoveryIslandTimeoutMs ?? CLIENT_DEFAULTS.discoveryIslandTimeoutMs,
      },
      this.events,
    );
    const discovery = this.#discovery;
    // The first lookup starts the background refresh: nothing connects before the first query.
    const lazyDiscovery: MapSource = {
      get map() {
        return discovery.map;
      },
      get unreachable() {
        return discovery.unreachable;
      },
      get conflicts() {
        return discovery.conflicts;
      },
      rediscover: (notBefore?: number) => {
        this.#startBackground();
        return discovery.rediscover(notBefore);
      },
    };
    this.#executor = new Executor(
      lazyDiscovery,
      (n) => this.#islands.get(n),
      this.#policy,
      this.events,
    );
    this.#loader = new BatchLoader(
      this.#executor,
      lazyDiscovery,
      options.maxBatchSize ?? CLIENT_DEFAULTS.maxBatchSize,
    );
    this.#writer = new BatchWriter(
      this.#executor,
      lazyDiscovery,
      options.maxBatchSize ?? CLIENT_DEFAULTS.maxBatchSize,
    );
    this.#applyConfig(config);
  }

  get config(): ClusterConfig {
    return this.#config;
  }

  get retryPolicy(): RetryPolicy {
    return this.#policy;
  }

  /** The current microshard → island map (empty until the first query or `rediscover()`). */
  get map(): ShardMap {
    return this.#discovery.map;
  }

  /** Completed discovery rounds. */
  get discoveryRounds(): number {
    return this.#discovery.rounds;
  }

  /**
   * The microshard an ID belongs to. @throws InvalidIdError (before any SQL is sent), also for an ID
   * of another environment than this cluster's `idEnvironment`.
   */
  microshardOf(id: unknown): number {
    // The routing hot path: a well-formed ID string of this environment is read digit by digit (the
    // same check `microshardOfId` makes, without slicing a string and converting it to a number).
    if (typeof id === "string" && isWellFormedId(id)) {
      const microshard = microshardDigits(id);
      if (id.charCodeAt(0) - 48 === this.#config.idEnvironment) return microshard;
    }
    const microshard = microshardOfId(id);
    const environment = String(id).charCodeAt(0) - 48;
    if (environment !== this.#config.idEnvironment) {
      throw new InvalidIdError(
        String(id),
        `it belongs to ID environment ${environment}, this cluster issues environment ${this.#config.idEnvironment}`,
      );
    }
    return microshard;
  }

  /** The microshard `microshard`. @throws InvalidMicroshardError */
  shard(microshard: number): Shard {
    return this.#shards.get(microshard) ?? this.#newShard(microshardNumber(microshard));
  }

  /** The microshard that holds the row with this ID. @throws InvalidIdError */
  shardOf(id: unknown): Shard {
    const microshard = this.microshardOf(id); // a valid microshard number
    return this.#shards.get(microshard) ?? this.#newShard(microshard);
  }

  #newShard(microshard: number): Shard {
    const shard = new Shard(microshard, this.#executor, this.#loader, this.#writer);
    this.#shards.set(microshard, shard);
    return shard;
  }

  /** Shard 0: global tables. */
  globalShard(): Shard {
    return this.shard(GLOBAL_MICROSHARD);
  }

  /** A new session: carries read-after-write positions for one viewer. */
  session(serialized?: string): Session {
    return serialized === undefined ? new Session() : Session.deserialize(serialized);
  }

  /** Every island with its nodes (as last probed) and its active microshards. */
  islands(): IslandStatus[] {
    const map = this.#discovery.map;
    return [...this.#islands.values()].map((island) => ({
      island: island.island,
      nodes: island.nodes.map((n) => ({
        name: n.name,
        role: n.role,
        health: n.health.kind,
        position: n.position === undefined ? undefined : formatLsn(n.position),
      })),
      microshards: map.microshardsOn(island.island),
    }));
  }

  /** Runs a discovery round now (joining one in flight). */
  async rediscover(): Promise<void> {
    this.#startBackground();
    await this.#discovery.rediscover();
  }

  /**
   * Replaces the config: islands or nodes may be added or removed. Nodes present in both keep their
   * pools; removed nodes are drained after in-flight queries finish.
   */
  async updateConfig(config: ClusterConfig): Promise<void> {
    const removed = this.#applyConfig(config);
    await Promise.all(removed.map((n) => n.end()));
    if (this.#state === "running") await this.#discovery.rediscover();
  }

  /** Stops background work and drains every pool. */
  async end(): Promise<void> {
    this.#state = "ended";
    this.#discovery.stop();
    if (this.#positionTimer) clearInterval(this.#positionTimer);
    await Promise.all([...this.#nodes.values()].map((n) => n.end()));
  }

  #applyConfig(config: ClusterConfig): NodeHandle[] {
    this.#config = config;
    const kept = new Set<string>();
    const islands = new Map<number, IslandHandle>();
    for (const island of config.islands) {
      const nodes = island.nodes.map((nodeConfig) => {
        const key = `${island.island}/${nodeKey(nodeConfig)}`;
        kept.add(key);
        let node = this.#nodes.get(key);
        if (!node) {
          node = new NodeHandle(
            island.island,
            nodeConfig,
            {
              max: CLIENT_DEFAULTS.poolSize,
              connectionTimeoutMillis: CLIENT_DEFAULTS.connectTimeoutMs,
              ...this.options.pool,
            },
            this.options.nodeDownMs ?? CLIENT_DEFAULTS.nodeDownMs,
            ({ from, to }) => {
              this.events.count("role_changes");
              this.events.emit("role-change", {
                island: island.island,
                node: nodeConfig.name,
                from,
                to,
              });
            },
          );
          this.#nodes.set(key, node);
        }
        return node;
      });
      islands.set(island.island, new IslandHandle(island.island, nodes));
    }
    this.#islands = islands;
    const removed: NodeHandle[] = [];
    for (const [key, node] of this.#nodes) {
      if (!kept.has(key)) {
        this.#nodes.delete(key);
        removed.push(node);
      }
    }
    return removed;
  }

  #startBackground(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    this.#discovery.start();
    const interval =
      this.options.replicaPositionIntervalMs ?? CLIENT_DEFAULTS.replicaPositionIntervalMs;
    this.#positionTimer = setInterval(() => this.#pollReplicaPositions(), interval);
    this.#positionTimer.unref();
  }

  /** Refreshes each replica's replay position, so `auto` reads can use replicas that caught up. */
  #pollReplicaPositions(): void {
    for (const island of this.#islands.values()) {
      for (const node of island.nodes) {
        if (node.role === "replica" && node.isAvailable()) node.probe().catch(() => {});
      }
    }
  }
}

/** A node's identity for config updates: a changed password (rotation) means a new pool. */
function nodeKey(node: NodeConfig): string {
  const secret = node.password
    ? createHash("sha256").update(node.password.reveal()).digest("hex")
    : "";
  return `${node.host}:${node.port}/${node.database}/${node.user}/${secret.slice(0, 16)}`;
}
