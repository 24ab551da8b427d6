/**
 * Who is asking: every entity call takes a viewer.
 *
 * A viewer carries three things. The principal (a user ID, or null for a guest) is what privacy rules
 * look at. The client `Session` carries the viewer's read-after-write positions, so after writing,
 * this viewer's reads go to the master until a replica has replayed the write (serialize it into the
 * response, restore it on the next request). The cluster is the one the entities are read from, so a
 * viewer is all a call needs.
 *
 * A viewer also owns a small query cache per entity (least recently used out), so the same row loaded
 * ten times while serving one request costs one load, and concurrent loads of it share one promise.
 * A Map of its own rather than an lru-cache per viewer, whose arrays, closures and per-call option
 * objects cost about a fifth of the entity layer's time per load (bench/ent-loads.bench.ts). The
 * viewer's own writes to an entity clear that entity's cache, so the viewer always reads what it just
 * wrote. Other viewers' writes do not, which is why the cache has a short TTL and a viewer should live
 * for one request. Rejected: one process-wide cache of rows for all viewers (rows cached for one viewer would
 * be served past privacy to another, and invalidation across processes would need a bus).
 *
 * The omni viewer (`Viewer.omni`) passes every privacy rule: for system jobs, migrations, and for
 * privacy rules themselves when they need to look at rows the viewer cannot see.
 */
import type { Cluster, Session } from "@archipelago/client";
import { ENT_DEFAULTS } from "./defaults.js";

export interface ViewerOptions {
  /** The viewer's session; a new one if not given. */
  readonly session?: Session;
  /** Per-entity cache size; 0 turns the cache off. @default ENT_DEFAULTS.viewerCacheMax */
  readonly cacheMax?: number;
  /** @default ENT_DEFAULTS.viewerCacheTtlMs */
  readonly cacheTtlMs?: number;
}

// biome-ignore lint/complexity/noBannedTypes: the cache holds settled-or-pending loads of any row type
type CachedLoad = Promise<{} | null>;

/**
 * @internal One entity's loads cached for one viewer: at most `max` entries, the least recently used
 * dropped first. A Map kept in recency order (a hit moves its entry to the end, an insert past the
 * bound drops the first), so a viewer that lives for one request allocates one Map and its entries.
 */
export class ViewerCache {
  readonly #entries = new Map<string, CachedLoad>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedLoad | undefined {
    const entries = this.#entries;
    const value = entries.get(key);
    if (value !== undefined && entries.size > 1) {
      // Most recently used last.
      entries.delete(key);
      entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: CachedLoad): void {
    this.#entries.delete(key); // re-inserted as the most recently used
    this.add(key, value);
  }

  /** `set` of a key that is not in the cache (`get` just missed it): one Map operation fewer. */
  add(key: string, value: CachedLoad): void {
    const entries = this.#entries;
    entries.set(key, value);
    if (entries.size > this.max) {
      for (const oldest of entries.keys()) {
        entries.delete(oldest);
        if (entries.size <= this.max) break;
      }
    }
  }

  /** The entry without marking it used. */
  peek(key: string): CachedLoad | undefined {
    return this.#entries.get(key);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

interface CacheEntry {
  readonly cache: ViewerCache;
  /** When the cache was created or last emptied for age (ms since the epoch). */
  startedAt: number;
}

export class Viewer {
  readonly session: Session;
  readonly #caches: Map<string, CacheEntry>;
  readonly #cacheMax: number;
  readonly #cacheTtlMs: number;
  #omniTwin: Viewer | undefined;

  private constructor(
    readonly cluster: Cluster,
    /** The user this viewer acts for; null for a guest. The omni twin keeps its viewer's. */
    readonly principal: string | null,
    readonly isOmni: boolean,
    options: ViewerOptions,
    caches = new Map<string, CacheEntry>(),
  ) {
    this.session = options.session ?? cluster.session();
    this.#cacheMax = options.cacheMax ?? ENT_DEFAULTS.viewerCacheMax;
    this.#cacheTtlMs = options.cacheTtlMs ?? ENT_DEFAULTS.viewerCacheTtlMs;
    this.#caches = caches;
  }

  /** A viewer acting for `principal` (a user ID). */
  static of(cluster: Cluster, principal: string, options: ViewerOptions = {}): Viewer {
    if (typeof principal !== "string" || principal.length === 0) {
      throw new TypeError("a viewer's principal must be a non-empty string (use Viewer.guest)");
    }
    return new Viewer(cluster, principal, false, options);
  }

  /** A viewer with no principal: only rules that allow guests let it read. */
  static guest(cluster: Cluster, options: ViewerOptions = {}): Viewer {
    return new Viewer(cluster, null, false, options);
  }

  /** Passes every privacy rule. For system jobs; never for a request's viewer. */
  static omni(cluster: Cluster, options: ViewerOptions = {}): Viewer {
    return new Viewer(cluster, null, true, options);
  }

  /**
   * An omni viewer with this viewer's session and query cache: for privacy rules that must look at
   * rows the viewer cannot see, and for system writes made on the viewer's behalf (it then reads them
   * back). Sharing the cache is safe because the cache holds rows, and rules run on every read.
   */
  toOmni(): Viewer {
    if (this.isOmni) return this;
    this.#omniTwin ??= new Viewer(
      this.cluster,
      this.principal,
      true,
      { session: this.session, cacheMax: this.#cacheMax, cacheTtlMs: this.#cacheTtlMs },
      this.#caches,
    );
    return this.#omniTwin;
  }

  /**
   * @internal The entity's cache of this viewer, or undefined when caching is off. Entries are at
   * most `cacheTtlMs` old: a cache older than that is emptied and starts again. One clock read per
   * access instead of lru-cache's per-entry TTL bookkeeping, which cost more than the rest of a
   * cached load (measured in bench/ent-loads.bench.ts); the bound is the same.
   */
  cacheOf(entity: string): ViewerCache | undefined {
    if (this.#cacheMax === 0) return undefined;
    const now = Date.now();
    let entry = this.#caches.get(entity);
    if (!entry) {
      entry = { cache: new ViewerCache(this.#cacheMax), startedAt: now };
      this.#caches.set(entity, entry);
    } else if (now - entry.startedAt > this.#cacheTtlMs) {
      entry.cache.clear();
      entry.startedAt = now;
    }
    return entry.cache;
  }

  /** @internal Called on this viewer's every write to `entity`. */
  invalidate(entity: string): void {
    this.#caches.get(entity)?.cache.clear();
  }

  toString(): string {
    return this.isOmni ? "omni" : (this.principal ?? "guest");
  }
}
