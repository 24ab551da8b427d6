/**
 * A where clause → SQL, with every value bound and every identifier quoted.
 *
 * Pure: it appends parameters to `params` and returns the condition text that refers to them, so the
 * caller can put conditions of its own before or after. Anything that does not name a known scalar
 * field or operator is an `EntQueryError` rather than being ignored: a misspelled filter that silently
 * matched every row would be the worst kind of bug in a multi-tenant app.
 *
 * Semantics are JavaScript's, not SQL's three-valued logic, where they differ: `{ f: null }` is
 * `IS NULL`, and `ne` keeps rows whose value is NULL (`IS DISTINCT FROM`).
 */
import { isId } from "@archipelago/topology";
import { quoteIdentifier } from "./column-name.js";
import { EntQueryError } from "./ent-errors.js";
import type { AnyWhere } from "./ent-types.js";
import { isOrdered, toDb } from "./field-kind.js";
import type { FieldMeta, FieldMetas } from "./field-meta.js";

const COMPARISONS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;
const OPERATORS = new Set(["eq", "ne", "in", "isNull", "gt", "gte", "lt", "lte"]);

export function compileWhere(
  entity: string,
  fields: FieldMetas,
  where: AnyWhere,
  params: unknown[],
  alias = "t",
): string {
  if (typeof where !== "object" || where === null || Array.isArray(where)) {
    throw new EntQueryError(entity, "where must be an object");
  }
  const parts: string[] = [];
  for (const [key, condition] of Object.entries(where)) {
    if (condition === undefined) continue;
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(condition)) throw new EntQueryError(entity, `${key} must be an array`);
      if (condition.length === 0) {
        parts.push(key === "$and" ? "TRUE" : "FALSE");
        continue;
      }
      const inner = condition.map((w: AnyWhere) => compileWhere(entity, fields, w, params, alias));
      parts.push(`(${inner.join(key === "$and" ? " AND " : " OR ")})`);
      continue;
    }
    if (key === "$not") {
      parts.push(`NOT (${compileWhere(entity, fields, condition as AnyWhere, params, alias)})`);
      continue;
    }
    const meta = fields.get(key);
    if (!meta) throw new EntQueryError(entity, `unknown field ${JSON.stringify(key)}`);
    if (meta.kind === "json") {
      throw new EntQueryError(entity, `field ${key} holds JSON and cannot be filtered on`);
    }
    parts.push(compileCondition(entity, meta, condition, params, alias));
  }
  return parts.length === 0 ? "TRUE" : parts.join(" AND ");
}

function compileCondition(
  entity: string,
  meta: FieldMeta,
  condition: unknown,
  params: unknown[],
  alias: string,
): string {
  const column = `${alias}.${quoteIdentifier(meta.column)}`;
  const bind = (value: unknown): string => {
    checkValue(entity, meta, value);
    params.push(toDb(meta.kind, value));
    return `$${params.length}`;
  };
  if (condition === null) return `${column} IS NULL`;
  if (!isOperatorObject(condition)) return `${column} = ${bind(condition)}`;
  const parts: string[] = [];
  for (const [op, value] of Object.entries(condition)) {
    if (value === undefined) continue;
    if (!OPERATORS.has(op)) {
      throw new EntQueryError(entity, `unknown operator ${JSON.stringify(op)} on ${meta.field}`);
    }
    switch (op) {
      case "eq":
        parts.push(value === null ? `${column} IS NULL` : `${column} = ${bind(value)}`);
        break;
      case "ne":
        parts.push(
          value === null ? `${column} IS NOT NULL` : `${column} IS DISTINCT FROM ${bind(value)}`,
        );
        break;
      case "in": {
        if (!Array.isArray(value))
          throw new EntQueryError(entity, `${meta.field}.in must be an array`);
        if (value.length === 0) {
          parts.push("FALSE");
          break;
        }
        for (const v of value) checkValue(entity, meta, v);
        params.push(value.map((v) => toDb(meta.kind, v)));
        parts.push(`${column} = ANY($${params.length})`);
        break;
      }
      case "isNull":
        if (typeof value !== "boolean") {
          throw new EntQueryError(entity, `${meta.field}.isNull must be a boolean`);
        }
        parts.push(value ? `${column} IS NULL` : `${column} IS NOT NULL`);
        break;
      default: {
        if (!isOrdered(meta.kind)) {
          throw new EntQueryError(entity, `${meta.field} cannot be compared with ${op}`);
        }
        const sqlOp = COMPARISONS[op as keyof typeof COMPARISONS];
        parts.push(`${column} ${sqlOp} ${bind(value)}`);
      }
    }
  }
  return parts.length === 0
    ? "TRUE"
    : parts.length === 1
      ? (parts[0] as string)
      : `(${parts.join(" AND ")})`;
}

/** A plain object is a set of operators; a Date (or any scalar) is a value. */
function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !(value instanceof Date);
}

/** Cheap type checks so that a wrong value is our error, not a PostgreSQL cast error mid-batch. */
function checkValue(entity: string, meta: FieldMeta, value: unknown): void {
  if (value === null) throw new EntQueryError(entity, `${meta.field}: use isNull for NULL`);
  const ok = (() => {
    switch (meta.kind) {
      case "id":
        // A malformed ID would reach PostgreSQL as a bad bigint (22P02); it is the caller's error.
        return isId(value);
      case "string":
        return typeof value === "string";
      case "number":
        return typeof value === "number" && Number.isFinite(value);
      case "boolean":
        return typeof value === "boolean";
      case "bigint":
        return typeof value === "bigint";
      case "date":
        return value instanceof Date && !Number.isNaN(value.getTime());
      case "json":
        return false;
    }
  })();
  if (!ok) throw new EntQueryError(entity, `${meta.field} expects a ${meta.kind} value`);
}
