/**
 * Rows at the edge: a database row becomes a typed object once, right after it is read, and a typed
 * value becomes a parameter once, right before it is bound. Nothing else in the entity layer converts.
 */
import { fromDb, toDb } from "./field-kind.js";
import type { FieldMetas } from "./field-meta.js";

type DbRow = Readonly<Record<string, unknown>>;

/** A row parser for these fields: `id` as a string, each field by its kind; other columns dropped. */
export function rowParser<R>(fields: FieldMetas): (raw: DbRow) => R {
  const list = [...fields.values()];
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const meta of list) row[meta.field] = fromDb(meta.kind, raw[meta.column]);
    return row as R;
  };
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
