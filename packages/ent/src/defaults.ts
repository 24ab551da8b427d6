/** Every tunable of the entity layer, with its default. */
export const ENT_DEFAULTS = {
  /** Entries of one viewer's query cache, per entity. @default 1000 */
  viewerCacheMax: 1000,
  /** How long a viewer's cached load stays fresh, in ms (a request's lifetime, not longer). @default 10_000 */
  viewerCacheTtlMs: 10_000,
  /** Entries of a global entity's process cache. @default 10_000 */
  globalCacheMax: 10_000,
  /** Rows fetched per chunk by `iterate`. @default 500 */
  iterateChunk: 500,
  /** Microshards queried at once by a fan-out (`selectAcross`, unpinned `loadBy`). @default 16 */
  fanOutConcurrency: 16,
  /** Rows a non-omni `count` reads to apply read rules before it refuses. @default 10_000 */
  countPrivacyLimit: 10_000,
} as const;
