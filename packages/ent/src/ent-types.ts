/**
 * The types an entity definition gives its callers: the row, the insert input, the update input and
 * the where clause, all inferred from the zod fields, so that a typo or a wrong value type is a
 * compile error (see `ent-types.test-d.ts`).
 */
import type { z } from "zod";
import type { DbDefault, FieldSpec } from "./field-kind.js";

export type Fields = Readonly<Record<string, FieldSpec>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type SchemaOf<F> = F extends DbDefault<infer S> ? S : F extends z.ZodType ? F : never;

/** The value of a field in a row (zod's output type). */
export type FieldValue<F> = z.output<SchemaOf<F>>;
/** The value accepted for a field on input (zod's input type). */
export type FieldInput<F> = z.input<SchemaOf<F>>;

/** A stored row: `id` plus every field. */
export type RowOf<Fs extends Fields> = Simplify<
  { readonly id: string } & { readonly [K in keyof Fs]: FieldValue<Fs[K]> }
>;

/** Fields an insert may leave out: database defaults, nullable fields (→ NULL), zod defaults. */
type OptionalInsertKeys<Fs extends Fields> = {
  [K in keyof Fs]: Fs[K] extends DbDefault
    ? K
    : null extends FieldValue<Fs[K]>
      ? K
      : undefined extends FieldInput<Fs[K]>
        ? K
        : never;
}[keyof Fs];

export type InsertInput<Fs extends Fields> = Simplify<
  { readonly [K in Exclude<keyof Fs, OptionalInsertKeys<Fs>>]: FieldInput<Fs[K]> } & {
    readonly [K in OptionalInsertKeys<Fs>]?: FieldInput<Fs[K]>;
  }
>;

/** Any subset of the fields, except those that decide the row's microshard (`Immutable`). */
export type UpdateInput<Fs extends Fields, Immutable extends keyof Fs> = Simplify<{
  readonly [K in Exclude<keyof Fs, Immutable>]?: FieldInput<Fs[K]>;
}>;

type Scalar = string | number | boolean | bigint | Date;
type Ordered = string | number | bigint | Date;

/** Keys of a row whose values are scalars (JSON fields cannot be filtered or ordered on). */
type ScalarKeys<R> = {
  [K in keyof R]-?: [NonNullable<R[K]>] extends [Scalar] ? K : never;
}[keyof R];
type OrderedKeys<R> = {
  [K in keyof R]-?: [NonNullable<R[K]>] extends [Ordered] ? K : never;
}[keyof R];

/** Conditions on one field; several in one object are ANDed. */
export type FieldOperators<V> = {
  readonly eq?: V;
  readonly ne?: V;
  readonly in?: readonly NonNullable<V>[];
} & ([NonNullable<V>] extends [Ordered]
  ? {
      readonly gt?: NonNullable<V>;
      readonly gte?: NonNullable<V>;
      readonly lt?: NonNullable<V>;
      readonly lte?: NonNullable<V>;
    }
  : unknown) &
  (null extends V ? { readonly isNull?: boolean } : unknown);

/** A field's condition: a value (equality; `null` means IS NULL) or operators. */
export type FieldCondition<V> = V | FieldOperators<V>;

/** A where clause over a row type: fields ANDed, plus `$and`, `$or`, `$not`. */
export type Where<R> = {
  readonly [K in ScalarKeys<R>]?: FieldCondition<R[K]>;
} & {
  readonly $and?: readonly Where<R>[];
  readonly $or?: readonly Where<R>[];
  readonly $not?: Where<R>;
};

/** `"createdAt"` (ascending) or `["createdAt", "desc"]`. */
export type OrderBy<R> = OrderedKeys<R> | readonly [OrderedKeys<R>, "asc" | "desc"];

/** A unique key given as its fields' values, e.g. `{ email: "a@b.c" }`. */
export type UniqueKeyInput<Fs extends Fields, U extends readonly (readonly (keyof Fs)[])[]> = {
  [I in keyof U]: Simplify<{ readonly [K in U[I][number]]: FieldValue<Fs[K]> }>;
}[number];

/** Runtime shape of a where (what JavaScript callers may pass; checked by `compileWhere`). */
export type AnyWhere = Readonly<Record<string, unknown>>;
export type AnyOrderBy = string | readonly [string, "asc" | "desc"];
