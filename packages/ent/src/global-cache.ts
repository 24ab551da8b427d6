/**
 * The process cache of a read-mostly global (shard 0) entity.
 *
 * Shard 0 lives on one island, so every request that reads, say, a plan or a feature flag would queue
 * on that island's nodes. An entity that opts in (`cache: { maxAgeMs }`) keeps loaded rows in an
 * lru-cache for at most `maxAgeMs`: that is the staleness bound for writes made by other processes.
 * This process's own writes to the entity clear the cache at once, so a process reads what it wrote.
 * Only found rows are cached: a row inserted elsewhere is visible as soon as it exists. Privacy rules
 * still run on every read; the cache holds rows, not decisions.
 */
import type { Cluster } from "@archipelago/client";
import { LRUCache } from "lru-cache";

export interface GlobalCacheOptions {
  /** The staleness bound, in ms. */
  readonly maxAgeMs: number;
  /** @default ENT_DEFAULTS.globalCacheMax */
  readonly max?: number;
}

export class GlobalCache<R extends object> {
  readonly #caches = new WeakMap<Cluster, LRUCache<string, R>>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly max: number,
  ) {}

  get(cluster: Cluster, key: string): R | undefined {
    return this.#caches.get(cluster)?.get(key);
  }

  set(cluster: Cluster, key: string, row: R): void {
    let cache = this.#caches.get(cluster);
    if (!cache) {
      cache = new LRUCache<string, R>({ max: this.max, ttl: this.maxAgeMs });
      this.#caches.set(cluster, cache);
    }
    cache.set(key, row);
  }

  clear(cluster: Cluster): void {
    this.#caches.get(cluster)?.clear();
  }
}
