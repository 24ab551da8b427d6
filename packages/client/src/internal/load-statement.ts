/**
 * The pure parts of a batched load: grouping a group's values by microshard, the statement text (cached
 * per shape), and matching marked rows back to their microshard.
 *
 * One microshard: every row comes from it, so the statement is a plain
 *
 *   SELECT t.* FROM sh0003."users" t WHERE t."id" = ANY($1)
 *
 * and its rows are the answers as they are. Several microshards: one SELECT each, unioned, each row
 * marked with its microshard in a leading column (values of a column other than an ID may repeat across
 * microshards, so a value alone cannot tell whose row it is):
 *
 *   SELECT 3 AS "__microshard", t.* FROM sh0003."users" t WHERE t."id" = ANY($1)
 *   UNION ALL
 *   SELECT 7 AS "__microshard", t.* FROM sh0007."users" t WHERE t."id" = ANY($2)
 *
 * Marked rows are handed out without their marker.
 */
import { microshardSchema } from "@archipelago/topology";
import { quoteIdentifier } from "../sql-guard.js";

export const MICROSHARD_COLUMN = "__microshard";

type Row = Record<string, unknown>;

/** Statement texts kept; past this the cache starts over (shapes are few in practice). */
export const LOAD_STATEMENT_CACHE_SIZE = 1_000;

/** The loads of one microshard in a batch: `values[i]` is the value of request `indexes[i]`. */
export interface MicroshardLoads {
  readonly microshard: number;
  readonly indexes: number[];
  readonly values: unknown[];
}

/**
 * Groups the requests at `indexes` by microshard, in order of first appearance. Consecutive requests
 * of one microshard (a whole single-microshard batch) share one map lookup.
 */
export function groupByMicroshard(
  requests: readonly { readonly microshard: number; readonly value: unknown }[],
  indexes: readonly number[],
): MicroshardLoads[] {
  const groups: MicroshardLoads[] = [];
  const byMicroshard = new Map<number, MicroshardLoads>();
  let last: MicroshardLoads | undefined;
  for (const index of indexes) {
    const request = requests[index] as (typeof requests)[number];
    if (last?.microshard !== request.microshard) {
      last = byMicroshard.get(request.microshard);
      if (!last) {
        last = { microshard: request.microshard, indexes: [], values: [] };
        byMicroshard.set(request.microshard, last);
        groups.push(last);
      }
    }
    last.indexes.push(index);
    last.values.push(request.value);
  }
  return groups;
}

/** The statement that loads `column = ANY(values)` from `table` in each microshard (see above). */
export function loadStatementText(
  table: string,
  column: string,
  microshards: readonly number[],
): string {
  const from = quoteIdentifier(table);
  const where = `t.${quoteIdentifier(column)}`;
  if (microshards.length === 1) {
    return `SELECT t.* FROM ${microshardSchema(microshards[0] as number)}.${from} t WHERE ${where} = ANY($1)`;
  }
  return microshards
    .map(
      (microshard, i) =>
        `SELECT ${microshard} AS "${MICROSHARD_COLUMN}", t.* FROM ${microshardSchema(microshard)}.${from} t WHERE ${where} = ANY($${i + 1})`,
    )
    .join("\nUNION ALL\n");
}

/** Statement texts by shape (table, column, microshards), so a repeated shape is not rebuilt. */
export class LoadStatements {
  /** table → column → microshards as code units → text. */
  readonly #texts = new Map<string, Map<string, Map<string, string>>>();
  #size = 0;

  constructor(private readonly capacity = LOAD_STATEMENT_CACHE_SIZE) {}

  text(table: string, column: string, microshards: readonly number[]): string {
    // A microshard number (0..9999) fits one UTF-16 code unit: the list as a string, with no number
    // formatting per batch.
    const key = String.fromCharCode.apply(null, microshards as number[]);
    let byColumn = this.#texts.get(table);
    let byMicroshards = byColumn?.get(column);
    const text = byMicroshards?.get(key);
    if (text !== undefined) return text;
    if (this.#size >= this.capacity) {
      this.#texts.clear();
      this.#size = 0;
      byColumn = undefined;
      byMicroshards = undefined;
    }
    if (!byColumn) {
      byColumn = new Map();
      this.#texts.set(table, byColumn);
    }
    if (!byMicroshards) {
      byMicroshards = new Map();
      byColumn.set(column, byMicroshards);
    }
    const built = loadStatementText(table, column, microshards);
    byMicroshards.set(key, built);
    this.#size++;
    return built;
  }

  get size(): number {
    return this.#size;
  }
}

/** A function that copies a row without its marker. */
export type RowCopier = (row: Row) => Row;

/**
 * Copiers for marked rows, one per column list (the columns of the statement's table), built once as
 * an object literal. A rest copy (`const { __microshard, ...row } = marked`) is a generic property walk
 * per row, several times slower than a literal with the keys known in advance.
 */
export class RowCopiers {
  readonly #copiers = new Map<string, RowCopier>();

  constructor(private readonly capacity = LOAD_STATEMENT_CACHE_SIZE) {}

  /** The copier for rows with these fields (in order), the marker first. */
  for(fields: readonly { readonly name: string }[]): RowCopier {
    let key = "";
    for (const field of fields) key += `${field.name}\u0000`;
    let copier = this.#copiers.get(key);
    if (!copier) {
      copier = rowCopier(fields.map((f) => f.name));
      if (this.#copiers.size >= this.capacity) this.#copiers.clear();
      this.#copiers.set(key, copier);
    }
    return copier;
  }
}

/**
 * Builds `(r) => ({ "id": r["id"], … })` over the distinct names other than the marker, in order: the
 * same keys, order and values as the driver's row without the marker. Names are written as JSON string
 * literals (always valid, never code); `__proto__` is a computed key, so it stays an own property.
 */
export function rowCopier(names: readonly string[]): RowCopier {
  const properties: string[] = [];
  for (const name of new Set(names)) {
    if (name === MICROSHARD_COLUMN) continue;
    const literal = JSON.stringify(name);
    properties.push(`${name === "__proto__" ? `[${literal}]` : literal}: r[${literal}]`);
  }
  return new Function("r", `"use strict"; return { ${properties.join(", ")} };`) as RowCopier;
}

/**
 * Rows of a marked statement: microshard → the value of `column` as text → the row, copied without
 * the marker (bigint IDs come back from the driver as strings, so values are compared as text).
 */
export function indexMarkedRows(
  rows: readonly Row[],
  column: string,
  copy: RowCopier,
): Map<number, Map<string, Row>> {
  const found = new Map<number, Map<string, Row>>();
  let lastMicroshard = Number.NaN;
  let byValue: Map<string, Row> | undefined;
  for (const row of rows) {
    const microshard = Number(row[MICROSHARD_COLUMN]);
    // UNION ALL rows come grouped by branch in practice; any order is handled.
    if (microshard !== lastMicroshard || !byValue) {
      lastMicroshard = microshard;
      byValue = found.get(microshard);
      if (!byValue) {
        byValue = new Map();
        found.set(microshard, byValue);
      }
    }
    byValue.set(String(row[column]), copy(row));
  }
  return found;
}
