/**
 * Which IDs a where clause pins its rows to, read from the top level of the clause only.
 *
 * A select must know its microshards before it runs: every microshard is a separate schema, often on
 * another island. A where pins them when a top-level condition on `id` or on a routing ID field (the
 * field the entity is colocated by) is an equality or an `in` list: every matching row then lives in
 * the microshards of those IDs. Conditions inside `$or`/`$not` do not pin anything (a row matching
 * the other branch could be anywhere), so they are not looked at.
 */
import type { AnyWhere } from "./ent-types.js";

/** The IDs of the first routing field (in `fields` order) that pins the where, or undefined. */
export function pinnedIds(where: AnyWhere, fields: readonly string[]): string[] | undefined {
  for (const field of fields) {
    const ids = idsOf(where[field]);
    if (ids !== undefined) return ids;
  }
  return undefined;
}

function idsOf(condition: unknown): string[] | undefined {
  if (typeof condition === "string") return [condition];
  if (typeof condition !== "object" || condition === null) return undefined;
  const ops = condition as { eq?: unknown; in?: unknown };
  if (typeof ops.eq === "string") return [ops.eq];
  if (Array.isArray(ops.in) && ops.in.every((v) => typeof v === "string")) return [...ops.in];
  return undefined;
}
