/**
 * The statements the entity layer sends, built by pure functions (tested against literal SQL in
 * `ent-sql.test.ts`). Identifiers are quoted, schema names come from `microshardSchema`, and every
 * value, limits included, is a bound parameter.
 */
import { microshardSchema } from "@archipelago/topology";
import { quoteIdentifier } from "./column-name.js";
import { compileWhere } from "./compile-where.js";
import { EntQueryError } from "./ent-errors.js";
import type { AnyWhere } from "./ent-types.js";
import { toDb } from "./field-kind.js";
import type { FieldMeta, FieldMetas } from "./field-meta.js";
import type { OrderKey } from "./merge-ordered.js";

export interface Statement {
  readonly sql: string;
  readonly params: unknown[];
}

export interface TableRef {
  readonly entity: string;
  readonly table: string;
  readonly fields: FieldMetas;
}

function target(ref: TableRef, microshard: number): string {
  return `${microshardSchema(microshard)}.${quoteIdentifier(ref.table)}`;
}

function metaOf(ref: TableRef, field: string): FieldMeta {
  const meta = ref.fields.get(field);
  if (!meta) throw new EntQueryError(ref.entity, `unknown field ${JSON.stringify(field)}`);
  return meta;
}

export function selectStatement(
  ref: TableRef,
  microshard: number,
  query: {
    readonly where: AnyWhere;
    readonly order: readonly OrderKey[];
    readonly limit: number;
    /** Keyset pagination: only rows with a greater ID. */
    readonly afterId?: string;
    /** Order text with COLLATE "C", so that rows of several microshards merge in JavaScript. */
    readonly bytewiseText?: boolean;
  },
): Statement {
  const params: unknown[] = [];
  let condition = compileWhere(ref.entity, ref.fields, query.where, params);
  if (query.afterId !== undefined) {
    params.push(query.afterId);
    condition = `(${condition}) AND t."id" > $${params.length}`;
  }
  const orderBy = query.order
    .map(({ field, direction }) => {
      const meta = metaOf(ref, field);
      const text = query.bytewiseText && meta.kind === "string" ? ' COLLATE "C"' : "";
      return `t.${quoteIdentifier(meta.column)}${text} ${direction === "asc" ? "ASC" : "DESC"}`;
    })
    .join(", ");
  params.push(query.limit);
  return {
    sql:
      `SELECT t.* FROM ${target(ref, microshard)} t WHERE ${condition}` +
      `${orderBy ? ` ORDER BY ${orderBy}` : ""} LIMIT $${params.length}`,
    params,
  };
}

export function countStatement(ref: TableRef, microshard: number, where: AnyWhere): Statement {
  const params: unknown[] = [];
  const condition = compileWhere(ref.entity, ref.fields, where, params);
  return {
    sql: `SELECT count(*) AS n FROM ${target(ref, microshard)} t WHERE ${condition}`,
    params,
  };
}

/**
 * One row, with `ON CONFLICT`: `nothing` (insertIfNotExists) or an upsert on `key` that overwrites
 * the given non-key columns. `__inserted` tells an insert from an update (xmax is 0 for a new tuple).
 */
export function insertStatement(
  ref: TableRef,
  microshard: number,
  values: Readonly<Record<string, unknown>>,
  onConflict:
    | { readonly kind: "nothing" }
    | { readonly kind: "update"; readonly key: readonly string[] },
): Statement {
  const params: unknown[] = [];
  const columns: string[] = [];
  const placeholders: string[] = [];
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const meta = metaOf(ref, field);
    columns.push(quoteIdentifier(meta.column));
    params.push(toDb(meta.kind, value));
    placeholders.push(`$${params.length}`);
  }
  const head =
    columns.length === 0
      ? `INSERT INTO ${target(ref, microshard)} AS t DEFAULT VALUES`
      : `INSERT INTO ${target(ref, microshard)} AS t (${columns.join(", ")}) VALUES (${placeholders.join(", ")})`;
  let conflict: string;
  if (onConflict.kind === "nothing") {
    conflict = "ON CONFLICT DO NOTHING";
  } else {
    const keyColumns = onConflict.key.map((f) => quoteIdentifier(metaOf(ref, f).column));
    const updates = Object.keys(values)
      .filter((f) => values[f] !== undefined && !onConflict.key.includes(f))
      .map((f) => quoteIdentifier(metaOf(ref, f).column));
    // With nothing to overwrite, still touch a key column so that RETURNING yields the row.
    const set = (updates.length > 0 ? updates : keyColumns.slice(0, 1))
      .map((c) => `${c} = EXCLUDED.${c}`)
      .join(", ");
    conflict = `ON CONFLICT (${keyColumns.join(", ")}) DO UPDATE SET ${set}`;
  }
  return {
    sql: `${head} ${conflict} RETURNING t.*, (t.xmax = 0) AS "__inserted"`,
    params,
  };
}

export function updateStatement(
  ref: TableRef,
  microshard: number,
  id: string,
  changes: Readonly<Record<string, unknown>>,
  expect: AnyWhere | undefined,
): Statement {
  const params: unknown[] = [id];
  const sets: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const meta = metaOf(ref, field);
    params.push(toDb(meta.kind, value));
    sets.push(`${quoteIdentifier(meta.column)} = $${params.length}`);
  }
  // An empty change still has to say whether the row exists and matches `expect`.
  if (sets.length === 0) sets.push(`"id" = t."id"`);
  let condition = `t."id" = $1`;
  if (expect !== undefined) {
    condition += ` AND (${compileWhere(ref.entity, ref.fields, expect, params)})`;
  }
  return {
    sql: `UPDATE ${target(ref, microshard)} AS t SET ${sets.join(", ")} WHERE ${condition} RETURNING t.*`,
    params,
  };
}

export function deleteStatement(ref: TableRef, microshard: number, id: string): Statement {
  return {
    sql: `DELETE FROM ${target(ref, microshard)} AS t WHERE t."id" = $1 RETURNING t.*`,
    params: [id],
  };
}

/** Rows matching every column of a multi-column unique key (a single column uses batched loads). */
export function uniqueKeyStatement(
  ref: TableRef,
  microshard: number,
  key: Readonly<Record<string, unknown>>,
): Statement {
  const params: unknown[] = [];
  const condition = compileWhere(ref.entity, ref.fields, key, params);
  return { sql: `SELECT t.* FROM ${target(ref, microshard)} t WHERE ${condition} LIMIT 1`, params };
}
