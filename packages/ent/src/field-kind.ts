/**
 * What a field is, as far as the database edge cares: how a value read from PostgreSQL becomes the
 * TypeScript value (dates, bigints, JSON), how a value is bound as a parameter, and which operators a
 * `where` may use on it.
 *
 * Fields are declared as zod schemas (the same schemas validate input), so the kind is read from the
 * schema's definition once, at `defineEnt`, never per row: nullable, optional and default wrappers are
 * unwrapped, and whatever is not a scalar is JSON. ID fields are strings made by `idField()`, which
 * checks the ID format; the entity layer needs to know them to route by them (colocation, inverses).
 */
import { ID_PATTERN } from "@archipelago/topology";
import { z } from "zod";

export type FieldKind = "id" | "string" | "number" | "boolean" | "bigint" | "date" | "json";

/** A field whose value the database fills in when an insert leaves it out (`DEFAULT …`). */
export interface DbDefault<S extends z.ZodType = z.ZodType> {
  readonly kind: "db-default";
  readonly schema: S;
}

/** A field as declared: a zod schema, or one wrapped in `dbDefault`. */
export type FieldSpec = z.ZodType | DbDefault;

const idSchemas = new WeakSet<z.ZodType>();

/** An ID field (`workspaceId`): a 19-digit ID string, checked on input; routable. */
export function idField(): z.ZodString {
  const schema = z.string().regex(ID_PATTERN, "must be a 19-digit Archipelago ID");
  idSchemas.add(schema);
  return schema;
}

/** The column has a database default: inserts may leave it out; rows always have it. */
export function dbDefault<S extends z.ZodType>(schema: S): DbDefault<S> {
  return { kind: "db-default", schema };
}

export function isDbDefault(spec: FieldSpec): spec is DbDefault {
  return (spec as Partial<DbDefault>).kind === "db-default" && "schema" in spec;
}

export function schemaOf(spec: FieldSpec): z.ZodType {
  return isDbDefault(spec) ? spec.schema : spec;
}

/** The kind of a field and whether it accepts null. */
export function fieldKind(spec: FieldSpec): { kind: FieldKind; nullable: boolean } {
  let schema = schemaOf(spec);
  let nullable = false;
  // Wrappers that do not change the stored type.
  for (;;) {
    const def = schema.def as { type: string; innerType?: z.ZodType };
    if (
      (def.type === "nullable" || def.type === "optional" || def.type === "default") &&
      def.innerType
    ) {
      if (def.type === "nullable") nullable = true;
      schema = def.innerType;
      continue;
    }
    break;
  }
  if (idSchemas.has(schema)) return { kind: "id", nullable };
  switch (schema.def.type) {
    case "string":
    case "enum":
      return { kind: "string", nullable };
    case "number":
      return { kind: "number", nullable };
    case "boolean":
      return { kind: "boolean", nullable };
    case "bigint":
      return { kind: "bigint", nullable };
    case "date":
      return { kind: "date", nullable };
    default:
      return { kind: "json", nullable };
  }
}

/** A value read from PostgreSQL (node-postgres' default parsers) → the field's TypeScript value. */
export function fromDb(kind: FieldKind, raw: unknown): unknown {
  return FROM_DB[kind](raw);
}

/** `fromDb` of each kind, as a function of the value alone (row parsers call them directly). */
export const FROM_DB: Readonly<Record<FieldKind, (raw: unknown) => unknown>> = {
  // bigint columns come back as strings already
  id: (raw) => (raw === null || raw === undefined ? null : String(raw)),
  bigint: (raw) =>
    raw === null || raw === undefined
      ? null
      : typeof raw === "bigint"
        ? raw
        : BigInt(raw as string | number),
  // numeric and bigint columns come back as strings
  number: (raw) =>
    raw === null || raw === undefined ? null : typeof raw === "number" ? raw : Number(raw),
  date: (raw) =>
    raw === null || raw === undefined ? null : raw instanceof Date ? raw : new Date(raw as string),
  string: asIs,
  boolean: asIs,
  json: asIs,
};

function asIs(raw: unknown): unknown {
  return raw === undefined ? null : raw;
}

/** A field's TypeScript value → a bound parameter. */
export function toDb(kind: FieldKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "bigint":
      return String(value);
    case "date":
      return value instanceof Date ? value.toISOString() : value;
    case "json":
      // node-postgres would turn a JS array into a PostgreSQL array literal; JSON is always text.
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** Kinds whose values can be compared with gt/gte/lt/lte and ordered. */
export function isOrdered(kind: FieldKind): boolean {
  return kind !== "json" && kind !== "boolean";
}
