/**
 * `defineEnt`: an entity from a config, checked once at definition time so that a wrong definition
 * fails when the module loads, not on the first request that touches the broken part.
 */
import { Ent } from "./ent.js";
import type { EntConfig, ShardSpec } from "./ent-config.js";
import { EntDefinitionError } from "./ent-errors.js";
import type { Fields } from "./ent-types.js";
import { fieldKind } from "./field-kind.js";
import { INVERSE_TABLE } from "./inverse-store.js";

const FIELD_NAME = /^[a-z][A-Za-z0-9]*$/;

export function defineEnt<
  const Fs extends Fields,
  const S extends ShardSpec<keyof Fs & string>,
  const U extends readonly (readonly (keyof Fs & string)[])[] = readonly [],
>(config: EntConfig<Fs, S, U>): Ent<Fs, S, U> {
  checkConfig(
    config as unknown as EntConfig<Fields, ShardSpec<string>, readonly (readonly string[])[]>,
  );
  return new Ent(config);
}

function checkConfig(
  config: EntConfig<Fields, ShardSpec<string>, readonly (readonly string[])[]>,
): void {
  const name = typeof config.name === "string" && config.name ? config.name : "(unnamed)";
  const fail = (reason: string): never => {
    throw new EntDefinitionError(name, reason);
  };
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(config.name ?? "")) fail("name must be an identifier");
  if (typeof config.table !== "string" || !/^[a-z_][a-z0-9_]*$/.test(config.table)) {
    fail("table must be a lower-case SQL identifier");
  }
  if (config.table === INVERSE_TABLE) fail(`${INVERSE_TABLE} is the inverses' table`);
  const fields = config.fields ?? {};
  const names = Object.keys(fields);
  for (const field of names) {
    if (field === "id") fail("id is implicit (bigint primary key generated in the microshard)");
    if (!FIELD_NAME.test(field))
      fail(`field ${JSON.stringify(field)} must be camelCase letters and digits`);
  }
  const kindOf = (field: string) => {
    const spec = fields[field];
    return spec === undefined ? undefined : fieldKind(spec);
  };
  const shard = config.shard;
  if (shard === "global") {
    // nothing to check
  } else if (shard === "random") {
    if (config.cache) fail("cache is for global entities only");
  } else if (typeof shard === "object" && shard !== null && "colocate" in shard) {
    const kind = kindOf(shard.colocate);
    if (!kind) fail(`shard.colocate names unknown field ${shard.colocate}`);
    if (kind?.kind !== "id" || kind.nullable) {
      fail(`shard.colocate field ${shard.colocate} must be a non-nullable idField()`);
    }
  } else if (typeof shard === "object" && shard !== null && "random" in shard) {
    const key = shard.random;
    const isUnique = (config.unique ?? []).some(
      (u) => u.length === key.length && u.every((f) => key.includes(f)),
    );
    if (!isUnique) fail("shard.random must list the fields of one of the unique keys");
  } else {
    fail('shard must be "global", "random", { random: [...key] } or { colocate: field }');
  }
  if (config.cache && shard !== "global") fail("cache is for global entities only");
  if (config.cache && !(Number.isFinite(config.cache.maxAgeMs) && config.cache.maxAgeMs > 0)) {
    fail("cache.maxAgeMs must be a positive number of milliseconds");
  }
  for (const key of config.unique ?? []) {
    if (key.length === 0) fail("a unique key needs at least one field");
    for (const f of key) {
      const kind = kindOf(f);
      if (!kind) fail(`unique key names unknown field ${f}`);
      if (kind?.kind === "json") fail(`unique key field ${f} holds JSON`);
    }
  }
  for (const f of config.inverses ?? []) {
    if (kindOf(f)?.kind !== "id") fail(`inverse field ${f} must be an idField()`);
    if (shard === "global") fail("a global entity needs no inverses: it lives in one place");
  }
  if (!config.privacy || !Array.isArray(config.privacy.read)) {
    fail("privacy.read is required (use [allowAll] for public rows)");
  }
}
