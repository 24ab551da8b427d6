/**
 * Rows at the edge: a database row becomes a typed object once, right after it is read, and a typed
 * value becomes a parameter once, right before it is bound. Nothing else in the entity layer converts.
 */
import { FROM_DB, toDb } from "./field-kind.js";
import type { FieldMetas } from "./field-meta.js";

type DbRow = Readonly<Record<string, unknown>>;

/**
 * A row parser for these fields: `id` as a string, each field by its kind (`fromDb`); other columns
 * dropped. Built once per entity as `(r) => ({ "id": c0(r["id"]), … })`: one object literal per row,
 * made with its final shape, where a loop over the fields took a keyed load, a keyed store and a shape
 * transition per field (about 140 ns more per row of five fields, a quarter of what the entity layer
 * adds to a load; bench/ent-loads.bench.ts). The client's row copiers are built the same way. Names
 * are written as JSON string literals (always valid, never code); `__proto__` is a computed key, so it
 * stays an own property.
 */
export function rowParser<R>(fields: FieldMetas): (raw: DbRow) => R {
  const converters: ((raw: unknown) => unknown)[] = [];
  const properties: string[] = [];
  for (const meta of fields.values()) {
    const field = JSON.stringify(meta.field);
    const key = meta.field === "__proto__" ? `[${field}]` : field;
    properties.push(`${key}: c${converters.length}(r[${JSON.stringify(meta.column)}])`);
    converters.push(FROM_DB[meta.kind]);
  }
  const names = converters.map((_, i) => `c${i}`);
  const build = new Function(
    ...names,
    `"use strict"; return (r) => ({ ${properties.join(", ")} });`,
  ) as (...converters: ((raw: unknown) => unknown)[]) => (raw: DbRow) => R;
  return build(...converters);
}

/**
 * Values for a `json_populate_recordset` insert (the client's batched insert): keyed by column; JSON
 * fields stay structured (PostgreSQL reads them as nested JSON), everything else is JSON-ready.
 */
export function insertRecord(
  fields: FieldMetas,
  values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const meta = fields.get(field);
    if (!meta) continue;
    record[meta.column] = meta.kind === "json" ? value : toDb(meta.kind, value);
  }
  return record;
}
