import type { FieldKind } from "./field-kind.js";

/** What the SQL builders know of one field. */
export interface FieldMeta {
  readonly field: string;
  readonly column: string;
  readonly kind: FieldKind;
  readonly nullable: boolean;
}

/** Every field of an entity by name, `id` included. */
export type FieldMetas = ReadonlyMap<string, FieldMeta>;
