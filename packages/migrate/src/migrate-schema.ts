/**
 * Applies pending migrations to one schema, recording each version inside the schema itself
 * (`<schema>.archipelago_migrations`), so that a microshard carries its version when it moves.
 */
import type pg from "pg";
import type { MigrationFailure } from "./migrate-errors.js";
import { type Migration, migrationsFor } from "./migration-files.js";

export interface SchemaTarget {
  readonly island: number;
  readonly microshard: number;
  /** The schema as named in the catalog (normally `sh%04d`). */
  readonly schema: string;
}

export interface SchemaMigrationResult {
  readonly target: SchemaTarget;
  readonly applied: readonly string[];
  readonly failure: MigrationFailure | undefined;
}

export interface MigrateSchemaOptions {
  /**
   * `per-version` (the runner): each version in its own transaction, so a failure keeps the versions
   * before it. `caller` (allocation): the caller's open transaction, so a new microshard is created and
   * migrated atomically.
   */
  readonly transactions: "per-version" | "caller";
  /** How long one DDL statement may wait for a table lock before the version fails. @default 5000 */
  readonly lockTimeoutMs?: number;
}

export async function migrateSchema(
  client: pg.ClientBase,
  target: SchemaTarget,
  allMigrations: readonly Migration[],
  options: MigrateSchemaOptions,
): Promise<SchemaMigrationResult> {
  const schema = quoteIdentifier(target.schema);
  const migrations = migrationsFor(target.microshard, allMigrations);
  const { rows } = await client.query<{ version: string; checksum: string }>(
    `SELECT version, checksum FROM ${schema}.archipelago_migrations`,
  );
  // Keyed by numeric value: renaming 0003_x.sql to 3_x.sql must not apply it a second time.
  const applied = new Map(rows.map((r) => [versionKey(r.version), r.checksum]));
  const done: string[] = [];
  const fail = (
    migration: Migration,
    message: string,
    sqlstate?: string,
  ): SchemaMigrationResult => ({
    target,
    applied: done,
    failure: {
      island: target.island,
      schema: target.schema,
      version: migration.version,
      file: migration.file,
      sqlstate,
      message,
    },
  });

  const highestApplied = [...applied.keys()].reduce(
    (max, v) => (BigInt(v) > max ? BigInt(v) : max),
    -1n,
  );
  for (const migration of migrations) {
    const checksum = applied.get(versionKey(migration.version));
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        return fail(
          migration,
          "the file changed after it was applied; add a new migration instead of editing it",
        );
      }
      continue;
    }
    if (BigInt(migration.version) < highestApplied) {
      return fail(
        migration,
        `version ${migration.version} is older than the applied ${highestApplied}; renumber it`,
      );
    }
    const lockTimeout = `${options.lockTimeoutMs ?? 5_000}ms`;
    try {
      if (options.transactions === "per-version") await client.query("BEGIN");
      await client.query(`SET LOCAL search_path TO ${schema}`);
      await client.query(`SET LOCAL lock_timeout TO '${lockTimeout}'`);
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${schema}.archipelago_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
        [migration.version, migration.name, migration.checksum],
      );
      if (options.transactions === "per-version") await client.query("COMMIT");
    } catch (error) {
      if (options.transactions === "caller") throw error;
      await client.query("ROLLBACK").catch(() => {});
      const { code, message } = error as { code?: string; message: string };
      return fail(migration, message, code);
    }
    done.push(migration.version);
  }
  return { target, applied: done, failure: undefined };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function versionKey(version: string): string {
  return BigInt(version).toString();
}
