/**
 * What the catalog installer runs, as data; the installer itself (I/O) lives in @archipelago/migrate.
 *
 * One transaction per island master: take the install lock, make sure the version table exists, apply
 * every version newer than the recorded one, claim the island identity, sync the state machine's edges.
 * Run again on an up-to-date catalog, every step finds nothing to do and nothing is written.
 */
import { advisoryLock } from "../advisory-locks.js";
import { MICROSHARD_TRANSITIONS } from "../microshard-state.js";
import {
  CATALOG_VERSIONS,
  type CatalogVersion,
  LATEST_CATALOG_VERSION,
} from "./catalog-versions.js";

const [lockNamespace, lockKey] = advisoryLock("catalogInstall");

/** Serializes installers on one island; released when the transaction ends. */
export const CATALOG_INSTALL_LOCK_SQL = `SELECT pg_advisory_xact_lock(${lockNamespace}, ${lockKey})`;

/** Creates the schema and the version table if missing (a no-op otherwise). */
export const CATALOG_BOOTSTRAP_SQL = `
CREATE SCHEMA IF NOT EXISTS archipelago;
CREATE TABLE IF NOT EXISTS archipelago.catalog_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version integer NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  upgraded_at timestamptz NOT NULL DEFAULT now()
);`;

export const CATALOG_READ_VERSION_SQL = "SELECT version FROM archipelago.catalog_version";

export const CATALOG_WRITE_VERSION_SQL = `
INSERT INTO archipelago.catalog_version (version) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version, upgraded_at = now()`;

export const CATALOG_READ_IDENTITY_SQL =
  "SELECT island, id_environment FROM archipelago.island_identity";

export const CATALOG_CLAIM_IDENTITY_SQL =
  "INSERT INTO archipelago.island_identity (island, id_environment) VALUES ($1, $2)";

/** The stored edges, to compare with `MICROSHARD_TRANSITIONS` before writing anything. */
export const CATALOG_READ_TRANSITIONS_SQL =
  "SELECT from_state, to_state, generation_delta FROM archipelago.microshard_transitions ORDER BY from_state, to_state";

/** True when the stored edges (rows of `CATALOG_READ_TRANSITIONS_SQL`) equal the code's. */
export function transitionsMatch(
  rows: readonly { from_state: string; to_state: string; generation_delta: number }[],
): boolean {
  const key = (from: string, to: string, delta: number) => `${from}>${to}:${delta}`;
  const stored = new Set(rows.map((r) => key(r.from_state, r.to_state, r.generation_delta)));
  const wanted = new Set(MICROSHARD_TRANSITIONS.map((e) => key(e.from, e.to, e.generationDelta)));
  return stored.size === wanted.size && [...wanted].every((k) => stored.has(k));
}

/**
 * Makes the stored edges equal to `MICROSHARD_TRANSITIONS` (parameter $1: their JSON). Writes only the
 * rows that differ, so an up-to-date catalog is left untouched.
 */
export const CATALOG_SYNC_TRANSITIONS_SQL = `
WITH wanted AS (
  SELECT e.from_state, e.to_state, e.generation_delta
  FROM jsonb_to_recordset($1::jsonb) AS e(from_state text, to_state text, generation_delta integer)
), removed AS (
  DELETE FROM archipelago.microshard_transitions t
  WHERE NOT EXISTS (SELECT FROM wanted w WHERE w.from_state = t.from_state AND w.to_state = t.to_state)
  RETURNING 1
), upserted AS (
  INSERT INTO archipelago.microshard_transitions AS t (from_state, to_state, generation_delta)
  SELECT from_state, to_state, generation_delta FROM wanted
  ON CONFLICT (from_state, to_state) DO UPDATE SET generation_delta = EXCLUDED.generation_delta
  WHERE t.generation_delta IS DISTINCT FROM EXCLUDED.generation_delta
  RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted) AS changed`;

/** The JSON parameter of `CATALOG_SYNC_TRANSITIONS_SQL`. */
export function transitionsParameter(): string {
  return JSON.stringify(
    MICROSHARD_TRANSITIONS.map((e) => ({
      from_state: e.from,
      to_state: e.to,
      generation_delta: e.generationDelta,
    })),
  );
}

/**
 * The versions to apply to a catalog at `current` (0 = none) to reach `target`.
 * @throws RangeError when the catalog is newer than this code or the target is unknown.
 */
export function catalogUpgradeSteps(
  current: number,
  target: number = LATEST_CATALOG_VERSION,
): readonly CatalogVersion[] {
  if (!Number.isInteger(target) || target < 1 || target > LATEST_CATALOG_VERSION) {
    throw new RangeError(
      `catalog version ${target} does not exist (latest: ${LATEST_CATALOG_VERSION})`,
    );
  }
  if (current > LATEST_CATALOG_VERSION) {
    throw new RangeError(
      `the catalog is at version ${current}, newer than this code knows (${LATEST_CATALOG_VERSION}); upgrade Archipelago`,
    );
  }
  return CATALOG_VERSIONS.filter((v) => v.version > current && v.version <= target);
}
