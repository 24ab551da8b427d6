export { columnName } from "./column-name.js";
export { ENT_DEFAULTS } from "./defaults.js";
export { defineEnt } from "./define-ent.js";
export {
  Ent,
  type IterateOptions,
  type SelectAcrossOptions,
  type SelectOptions,
} from "./ent.js";
export type {
  AffinityFields,
  EntConfig,
  EntTriggers,
  ShardSpec,
  UpdatedEvent,
  UpdateEvent,
  WriteRow,
} from "./ent-config.js";
export * from "./ent-errors.js";

import type { Ent } from "./ent.js";
import type { Fields, RowOf } from "./ent-types.js";

export type {
  FieldCondition,
  FieldOperators,
  Fields,
  InsertInput,
  OrderBy,
  RowOf,
  UniqueKeyInput,
  UpdateInput,
  Where,
} from "./ent-types.js";
export { type DbDefault, dbDefault, type FieldKind, idField } from "./field-kind.js";
export type { GlobalCacheOptions } from "./global-cache.js";
export { INVERSE_TABLE } from "./inverse-store.js";
export { allowAll, type ReadRule, type WriteRule } from "./privacy-rules.js";
export { Viewer, type ViewerOptions } from "./viewer.js";

/** The shape of an entity's rows: `type Comment = EntRow<typeof Comment>`. */
export type EntRow<E> =
  E extends Ent<infer Fs extends Fields, infer _S, infer _U> ? RowOf<Fs> : never;
