/**
 * Where a new row of a `random` entity goes.
 *
 * With a key (a unique key of the entity): the microshard is a function of the key's values and the
 * set of microshards, so two processes racing to insert the same email both pick the same microshard,
 * where its UNIQUE constraint lets only one win (a unique constraint holds within one schema only).
 * The function is Lamping and Veach's jump consistent hash over the microshards in ascending order: new
 * microshards are allocated with the lowest free numbers, which are usually the highest so far, so
 * growing the cluster from n to m microshards re-homes only (m - n) / m of the keys, never moving a key
 * between two old microshards. Rejected: `hash mod n` (re-homes nearly every key on growth) and
 * rendezvous hashing (one hash per microshard per insert).
 *
 * Without a key, any microshard will do: a uniform random pick.
 */
import { createHash } from "node:crypto";

const MASK64 = (1n << 64n) - 1n;

/** Jump consistent hash: a bucket in [0, buckets) for a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isSafeInteger(buckets) || buckets < 1) {
    throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  }
  let k = key & MASK64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(k >> 33n) + 1));
  }
  return b;
}

/** A stable 64-bit key for a unique key's values (strings, numbers, booleans, bigints, dates). */
export function keyHash(values: readonly unknown[]): bigint {
  const text = JSON.stringify(values.map(canonical));
  return createHash("sha256").update(text).digest().readBigUInt64BE(0);
}

function canonical(value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** The microshard for a keyed row among `microshards` (any order; sorted here). */
export function placeByKey(values: readonly unknown[], microshards: readonly number[]): number {
  const sorted = [...microshards].sort((a, b) => a - b);
  if (sorted.length === 0) throw new RangeError("no microshards to place the row in");
  return sorted[jumpHash(keyHash(values), sorted.length)] as number;
}
