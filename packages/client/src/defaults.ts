/**
 * Every tunable of the client runtime, in one place, each with its default and why.
 */
export const CLIENT_DEFAULTS = Object.freeze({
  /** Background rediscovery period; the map also refreshes on demand when a query meets a change. @default 5000 */
  discoveryIntervalMs: 5_000,
  /** ± fraction of the period, so that many processes do not refresh in lockstep. @default 0.2 */
  discoveryJitter: 0.2,
  /** Rediscovery rounds start at least this far apart, however many failing queries ask. @default 100 */
  rediscoverMinIntervalMs: 100,
  /** How long one island may take to answer a discovery round before it counts as unreachable for that round. @default 2000 */
  discoveryIslandTimeoutMs: 2_000,
  /** How often each replica's replay position is polled for read-after-write decisions. @default 250 */
  replicaPositionIntervalMs: 250,
  /** A node marked down is skipped this long before it is tried again. @default 1000 */
  nodeDownMs: 1_000,
  /** Connections per node pool. @default 10 */
  poolSize: 10,
  /** Connect timeout per attempt. @default 2000 */
  connectTimeoutMs: 2_000,
  /** Keys per batched load statement. @default 1000 */
  maxBatchSize: 1_000,
});
