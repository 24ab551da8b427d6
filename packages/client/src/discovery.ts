/**
 * Discovery: where every microshard lives, read from the islands' catalogs.
 *
 * A round probes every island at once (each node's role and position, then the catalog rows from the
 * master, or from any node when no master answers: the catalog reaches replicas by physical
 * replication) and builds a new `ShardMap` from the answers. An island that does not answer within its
 * timeout is "unreachable" for the round and keeps its previous placements, so one slow or dead island
 * never stalls or empties the others. Rounds are coalesced: every caller of `rediscover()` while a
 * round runs gets that round's result, so a burst of failing queries costs one round. After the first
 * map, readers never wait: they read `map`, and refreshes replace it.
 *
 * Rejected: guessing placement from `pg_namespace` (a half-copied schema exists on two islands during
 * a move) and trusting a map pushed by the shard manager (the islands' own catalogs are the authority).
 */
import type { MicroshardState } from "@archipelago/topology";
import type { ClientEvents } from "./client-events.js";
import type { IslandHandle } from "./island-handle.js";
import { buildShardMap, type CatalogEntry, ShardMap } from "./shard-map.js";

/** What the executor and the batchers need from discovery. */
export interface MapSource {
  readonly map: ShardMap;
  /** Islands that did not answer the last round (their placements are kept from before). */
  readonly unreachable: ReadonlySet<number>;
  /** Microshards active on several islands in the last round. */
  readonly conflicts: ReadonlySet<number>;
  rediscover(notBefore?: number): Promise<ShardMap>;
}

export interface DiscoveryOptions {
  readonly intervalMs: number;
  /** Rounds start at least this far apart, however many callers ask. */
  readonly minIntervalMs: number;
  readonly jitter: number;
  readonly islandTimeoutMs: number;
}

export class Discovery implements MapSource {
  #map: ShardMap = ShardMap.empty;
  #unreachable: ReadonlySet<number> = new Set();
  #conflicts: ReadonlySet<number> = new Set();
  /** When the round that built `#map` started reading catalogs. */
  #mapStartedAt = Number.NEGATIVE_INFINITY;
  #round: { readonly startedAt: number; readonly promise: Promise<ShardMap> } | undefined;
  #lastRoundAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #rounds = 0;
  #state: "idle" | "running" | "stopped" = "idle";

  constructor(
    private readonly islands: () => readonly IslandHandle[],
    private readonly options: DiscoveryOptions,
    private readonly events: ClientEvents,
  ) {}

  get map(): ShardMap {
    return this.#map;
  }

  get unreachable(): ReadonlySet<number> {
    return this.#unreachable;
  }

  get conflicts(): ReadonlySet<number> {
    return this.#conflicts;
  }

  /** Completed rounds since start (tests use it to check coalescing). */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * A map read from the catalogs no earlier than `notBefore` (default: now). A caller that met a
   * topology change at time t asks for a map read after t: a round that started earlier may predate
   * the change and would wrongly confirm the old placement. Such callers share rounds: the current map
   * or the round in flight serves them when it is recent enough, and rounds start at least
   * `minIntervalMs` apart, so a burst of failures costs a few rounds, not one each.
   */
  rediscover(notBefore: number = performance.now()): Promise<ShardMap> {
    if (this.#mapStartedAt >= notBefore) return Promise.resolve(this.#map);
    const round = this.#round;
    if (round && round.startedAt >= notBefore) return round.promise;
    if (round) return round.promise.catch(() => undefined).then(() => this.rediscover(notBefore));
    const wait = Math.max(0, this.#lastRoundAt + this.options.minIntervalMs - performance.now());
    const startedAt = performance.now() + wait;
    const promise = sleep(wait)
      .then(() => this.#runRound(startedAt))
      .finally(() => {
        this.#round = undefined;
      });
    this.#round = { startedAt, promise };
    return promise;
  }

  /** Starts the background refresh (idempotent). */
  start(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    this.#schedule();
  }

  stop(): void {
    this.#state = "stopped";
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#state !== "running") return;
    const { intervalMs, jitter } = this.options;
    const delay = intervalMs * (1 + jitter * (2 * Math.random() - 1));
    this.#timer = setTimeout(() => {
      this.rediscover()
        .catch(() => {
          // A failed background round keeps the previous map; the next round tries again.
        })
        .finally(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }

  async #runRound(started: number): Promise<ShardMap> {
    this.#lastRoundAt = started;
    const islands = this.islands();
    const answers = await Promise.all(
      islands.map(async (island) => [island.island, await this.#readIsland(island)] as const),
    );
    const previous = this.#map;
    const { map, conflicts, unreachable } = buildShardMap({ islands: new Map(answers), previous });
    this.#map = map;
    this.#unreachable = new Set(unreachable);
    this.#conflicts = new Set(conflicts.map((c) => c.microshard));
    this.#mapStartedAt = started;
    this.#rounds++;
    this.events.count("discoveries");
    for (const conflict of conflicts) {
      this.events.count("conflicts");
      this.events.emit("conflict", conflict);
    }
    this.events.emit("discovery", {
      durationMs: performance.now() - started,
      microshards: map.size,
      changed: !sameActivePlacements(previous, map),
      unreachable,
      conflicts,
    });
    return map;
  }

  /** The island's catalog rows, or undefined when it does not answer in time. */
  async #readIsland(island: IslandHandle): Promise<readonly CatalogEntry[] | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.options.islandTimeoutMs);
    });
    try {
      return await Promise.race([this.#readIslandNow(island), timeout]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #readIslandNow(island: IslandHandle): Promise<readonly CatalogEntry[] | undefined> {
    const master = await island.probeRoles();
    const source = master ?? island.nodes.find((n) => n.role === "replica" && n.isAvailable());
    if (!source) return undefined;
    const { rows } = await source
      .pool()
      .query<{ microshard: number; state: MicroshardState; generation: number }>(
        "SELECT microshard, state, generation FROM archipelago.microshards",
      );
    return rows.map((r) => ({ island: island.island, ...r }));
  }
}

function sameActivePlacements(a: ShardMap, b: ShardMap): boolean {
  const ms = a.microshards();
  if (ms.length !== b.microshards().length) return false;
  return ms.every((m) => {
    const x = a.locate(m);
    const y = b.locate(m);
    return (
      x.kind === "active" &&
      y.kind === "active" &&
      x.island === y.island &&
      x.generation === y.generation
    );
  });
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
