/**
 * Migration files: `<version>_<name>.<target>.sql`, for example `0003_add_topics.sharded.sql`.
 *
 * - version: digits; files apply in numeric order and each version is applied at most once per schema;
 * - target: `global` (shard 0 only), `sharded` (every microshard sh0001..sh9999) or `all` (both).
 * The SQL runs with `search_path` set to the schema, so it names tables without a schema. A file's
 * checksum is recorded with its version, so that editing an applied migration is detected, not ignored.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GLOBAL_MICROSHARD } from "@archipelago/topology";
import { InvalidMigrationError } from "./migrate-errors.js";

export const MIGRATION_TARGETS = ["global", "sharded", "all"] as const;
export type MigrationTarget = (typeof MIGRATION_TARGETS)[number];

export interface Migration {
  /** The version as written in the file name, e.g. "0003". */
  readonly version: string;
  readonly name: string;
  readonly target: MigrationTarget;
  readonly file: string;
  readonly sql: string;
  /** sha256 of the SQL, hex. */
  readonly checksum: string;
}

const FILE_NAME = /^(\d+)_([a-z0-9][a-z0-9_-]*)\.(global|sharded|all)\.sql$/;

/** Parses one file's name and content. @throws InvalidMigrationError */
export function parseMigration(file: string, sql: string): Migration {
  const match = FILE_NAME.exec(file);
  if (!match) {
    throw new InvalidMigrationError(
      file,
      "the name must be <version>_<name>.<global|sharded|all>.sql, e.g. 0001_create_users.sharded.sql",
    );
  }
  const [, version, name, target] = match as unknown as [string, string, string, MigrationTarget];
  if (sql.trim() === "") throw new InvalidMigrationError(file, "the file is empty");
  return {
    version,
    name,
    target,
    file,
    sql,
    checksum: createHash("sha256").update(sql).digest("hex"),
  };
}

/**
 * Orders migrations by version and checks that versions are unique. Pure.
 * @throws InvalidMigrationError
 */
export function orderMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] as Migration;
    const current = sorted[i] as Migration;
    if (compareVersions(previous.version, current.version) === 0) {
      throw new InvalidMigrationError(
        current.file,
        `version ${current.version} is also used by ${previous.file}`,
      );
    }
  }
  return sorted;
}

/** Reads every `*.sql` file of a folder. @throws InvalidMigrationError */
export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  return orderMigrations(
    files.map((file) => parseMigration(file, readFileSync(join(dir, file), "utf8"))),
  );
}

/** The migrations that apply to a microshard (shard 0 gets `global` and `all`, others `sharded` and `all`). */
export function migrationsFor(microshard: number, migrations: readonly Migration[]): Migration[] {
  const wanted: MigrationTarget = microshard === GLOBAL_MICROSHARD ? "global" : "sharded";
  return migrations.filter((m) => m.target === wanted || m.target === "all");
}

function compareVersions(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}
