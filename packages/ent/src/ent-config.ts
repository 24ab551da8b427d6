/**
 * What `defineEnt` takes: the table, the fields, where rows live, unique keys, inverses, privacy,
 * triggers and an optional process cache for global entities.
 */
import type { Fields, InsertInput, RowOf, UpdateInput } from "./ent-types.js";
import type { GlobalCacheOptions } from "./global-cache.js";
import type { ReadRule, WriteRule } from "./privacy-rules.js";
import type { Viewer } from "./viewer.js";

/**
 * Where an entity's rows live.
 * - `"global"`: shard 0, on the global island.
 * - `{ random: [...uniqueKey] }`: a microshard chosen from the key's values (racing inserts of one key
 *   meet in one microshard, where the UNIQUE constraint decides); `"random"`: any microshard.
 * - `{ colocate: "parentId" }`: the microshard of the ID in that field (children beside their parent).
 */
export type ShardSpec<K extends string> =
  | "global"
  | "random"
  | { readonly random: readonly K[] }
  | { readonly colocate: K };

/** The fields that decide a row's microshard: they cannot be updated. */
export type AffinityFields<S> = S extends { readonly random: readonly (infer K)[] }
  ? K
  : S extends { readonly colocate: infer K }
    ? K
    : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type MaybePromise<T> = T | Promise<T>;

/** What write rules see: the row as it will be written (with `id` once it exists). */
export type WriteRow<Fs extends Fields> = Simplify<{ readonly id?: string } & InsertInput<Fs>>;

export interface UpdateEvent<Fs extends Fields, Imm extends keyof Fs> {
  readonly old: RowOf<Fs>;
  readonly changes: UpdateInput<Fs, Imm>;
  /** Fields whose value the update changes. */
  readonly changed: readonly (keyof Fs & string)[];
}

export interface UpdatedEvent<Fs extends Fields> {
  readonly old: RowOf<Fs>;
  readonly row: RowOf<Fs>;
  readonly changed: readonly (keyof Fs & string)[];
}

/**
 * Triggers run in array order. A `before` trigger may return a patch (merged into the input and
 * validated again) or throw to stop the write before anything is written. An `after` trigger runs once
 * the write is acknowledged; if it throws, the write stays done and the caller gets the error.
 */
export interface EntTriggers<Fs extends Fields, Imm extends keyof Fs> {
  readonly beforeInsert?: readonly ((
    vc: Viewer,
    input: InsertInput<Fs>,
    // biome-ignore lint/suspicious/noConfusingVoidType: a trigger with no patch returns nothing
  ) => MaybePromise<Partial<InsertInput<Fs>> | undefined | void>)[];
  readonly afterInsert?: readonly ((vc: Viewer, row: RowOf<Fs>) => MaybePromise<void>)[];
  readonly beforeUpdate?: readonly ((
    vc: Viewer,
    event: UpdateEvent<Fs, Imm>,
    // biome-ignore lint/suspicious/noConfusingVoidType: a trigger with no patch returns nothing
  ) => MaybePromise<UpdateInput<Fs, Imm> | undefined | void>)[];
  readonly afterUpdate?: readonly ((vc: Viewer, event: UpdatedEvent<Fs>) => MaybePromise<void>)[];
  readonly beforeDelete?: readonly ((vc: Viewer, row: RowOf<Fs>) => MaybePromise<void>)[];
  readonly afterDelete?: readonly ((vc: Viewer, row: RowOf<Fs>) => MaybePromise<void>)[];
}

export interface EntConfig<
  Fs extends Fields,
  S extends ShardSpec<keyof Fs & string>,
  U extends readonly (readonly (keyof Fs & string)[])[],
> {
  /** The entity's name, in errors and inverse types (`Comment`). */
  readonly name: string;
  /** The table in every microshard (or in shard 0 for a global entity). */
  readonly table: string;
  /** Field name → zod schema; columns are the snake_case names; `id` is implicit. */
  readonly fields: Fs;
  readonly shard: S;
  /** Unique keys, each a list of fields, matching UNIQUE constraints in the table. */
  readonly unique?: U;
  /** ID fields that get reverse-lookup rows, so selects by them visit only matching microshards. */
  readonly inverses?: readonly (keyof Fs & string)[];
  readonly privacy: {
    readonly read: readonly ReadRule<RowOf<Fs>>[];
    /** All must pass for insert, update (old and new row) and delete. None: omni viewer only. */
    readonly write?: readonly WriteRule<WriteRow<Fs>>[];
  };
  readonly triggers?: EntTriggers<Fs, AffinityFields<S>>;
  /** Global entities only: a process cache with a staleness bound. */
  readonly cache?: GlobalCacheOptions;
}
