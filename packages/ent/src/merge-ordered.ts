/**
 * The merge step of a fan-out: each microshard returned its first `limit` rows in the requested
 * order; the first `limit` of the union, in that order, are the answer. Pure.
 *
 * Strings compare by their UTF-8 bytes, which is how PostgreSQL's "C" collation orders them (fan-out
 * statements order text with `COLLATE "C"`, so every microshard and this merge agree; a locale
 * collation could order differently on each island and has no JavaScript twin).
 */

export type Direction = "asc" | "desc";
export interface OrderKey {
  readonly field: string;
  readonly direction: Direction;
}

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  // PostgreSQL puts NULLs last in ascending order (and first in descending).
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  return (a as number | bigint) < (b as number | bigint)
    ? -1
    : (a as number | bigint) > (b as number | bigint)
      ? 1
      : 0;
}

/** Byte order of UTF-8; IDs (19 digits) compare correctly as strings. */
export function compareStrings(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

export function rowComparator(
  order: readonly OrderKey[],
): (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) => number {
  return (a, b) => {
    for (const { field, direction } of order) {
      const c = compareValues(a[field], b[field]);
      if (c !== 0) {
        // NULLs stay last ascending, first descending, as in PostgreSQL's defaults.
        return direction === "asc" ? c : -c;
      }
    }
    return 0;
  };
}

/** The first `limit` rows of the ordered union of `lists` (each already in that order). */
export function mergeOrdered<R extends Readonly<Record<string, unknown>>>(
  lists: readonly (readonly R[])[],
  order: readonly OrderKey[],
  limit: number,
): R[] {
  const all = lists.flat();
  all.sort(rowComparator(order));
  return all.slice(0, limit);
}
