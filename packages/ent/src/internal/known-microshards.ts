import type { Cluster } from "@archipelago/client";
import { MAX_MICROSHARD } from "@archipelago/topology";

const known = new WeakMap<Cluster, { epoch: number; microshards: readonly number[] }>();

/**
 * Every microshard the cluster holds (shard 0 excluded), active or in the middle of a move, ascending.
 * A microshard being switched is still one of the cluster's microshards: leaving it out would change
 * where a keyed `random` insert lands during a blip. Recomputed only when the map changes.
 */
export async function knownMicroshards(cluster: Cluster): Promise<readonly number[]> {
  if (cluster.map.epoch === 0) await cluster.rediscover();
  const map = cluster.map;
  const cached = known.get(cluster);
  if (cached && cached.epoch === map.epoch) return cached.microshards;
  const microshards: number[] = [];
  for (let m = 1; m <= MAX_MICROSHARD; m++) {
    if (map.locate(m).kind !== "missing") microshards.push(m);
  }
  known.set(cluster, { epoch: map.epoch, microshards });
  return microshards;
}
