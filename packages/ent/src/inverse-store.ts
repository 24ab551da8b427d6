/**
 * Inverses: reverse-lookup rows for an ID field that points into other microshards.
 *
 * A comment lives in its topic's microshard, but "comments by this author" would have to ask every
 * microshard. So for an inverse field, every row also has an inverse row `(type, id1 = the field's
 * value, id2 = the row's ID)` stored in the microshard of id1 (the author's), in the `ent_inverses`
 * table every schema has. A select by the field reads the inverse rows first and then visits only the
 * microshards their id2 values name.
 *
 * There is no transaction across two microshards, so the order of writes is what keeps them
 * consistent: the inverse row is written first, and removed again if the main write is known to have
 * failed. A crash in between leaves an inverse row with no main row: harmless, because a read only uses
 * inverses to choose microshards and then filters real rows. The opposite (a row without its inverse,
 * invisible to selects by that field) cannot happen, except if someone deletes inverse rows by hand.
 * Removing the old inverse after a field changes, or after a delete, comes last for the same reason.
 */
import type { Cluster, Session } from "@archipelago/client";
import { microshardSchema } from "@archipelago/topology";

export const INVERSE_TABLE = "ent_inverses";

export interface InverseRef {
  readonly cluster: Cluster;
  readonly session: Session;
  /** `Entity.field` */
  readonly type: string;
}

/** Writes (id1 → id2); idempotent. */
export async function addInverse(ref: InverseRef, id1: string, id2: string): Promise<void> {
  const shard = ref.cluster.shardOf(id1);
  await shard.query(
    `INSERT INTO ${microshardSchema(shard.microshard)}.${INVERSE_TABLE} (type, id1, id2) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [ref.type, id1, id2],
    { write: true, idempotent: true, session: ref.session },
  );
}

/**
 * Writes (id1 → id2) for a row that does not exist yet (id2 is fresh, so the pair cannot exist):
 * through the client's batched insert, so a tick's inverse rows cost one statement per island.
 */
export async function addFreshInverse(ref: InverseRef, id1: string, id2: string): Promise<void> {
  await ref.cluster
    .shardOf(id1)
    .insert(INVERSE_TABLE, { type: ref.type, id1, id2 }, { session: ref.session });
}

/** Removes (id1 → id2); idempotent. */
export async function removeInverse(ref: InverseRef, id1: string, id2: string): Promise<void> {
  const shard = ref.cluster.shardOf(id1);
  await shard.query(
    `DELETE FROM ${microshardSchema(shard.microshard)}.${INVERSE_TABLE} WHERE type = $1 AND id1 = $2 AND id2 = $3`,
    [ref.type, id1, id2],
    { write: true, idempotent: true, session: ref.session },
  );
}

/** Every id2 recorded for these id1 values (one statement per microshard of the id1 values). */
export async function findInverse(ref: InverseRef, ids1: readonly string[]): Promise<string[]> {
  const byMicroshard = new Map<number, string[]>();
  for (const id of ids1) {
    const m = ref.cluster.microshardOf(id);
    const list = byMicroshard.get(m);
    if (list) list.push(id);
    else byMicroshard.set(m, [id]);
  }
  const found = await Promise.all(
    [...byMicroshard].map(async ([m, ids]) => {
      const rows = await ref.cluster
        .shard(m)
        .query<{ id2: string }>(
          `SELECT id2::text AS id2 FROM ${microshardSchema(m)}.${INVERSE_TABLE} WHERE type = $1 AND id1 = ANY($2)`,
          [ref.type, ids],
          { session: ref.session },
        );
      return rows.map((r) => r.id2);
    }),
  );
  return found.flat();
}
