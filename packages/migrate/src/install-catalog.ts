/**
 * Installs or upgrades the catalog on island masters (see @archipelago/topology's catalog for the DDL).
 * Idempotent: on an up-to-date catalog it writes nothing. Islands are installed in parallel; each in one
 * transaction, so a failure leaves that island at its previous version.
 */

import {
  CATALOG_BOOTSTRAP_SQL,
  CATALOG_CLAIM_IDENTITY_SQL,
  CATALOG_INSTALL_LOCK_SQL,
  CATALOG_READ_IDENTITY_SQL,
  CATALOG_READ_TRANSITIONS_SQL,
  CATALOG_READ_VERSION_SQL,
  CATALOG_SYNC_TRANSITIONS_SQL,
  CATALOG_WRITE_VERSION_SQL,
  catalogUpgradeSteps,
  LATEST_CATALOG_VERSION,
  transitionsMatch,
  transitionsParameter,
} from "@archipelago/topology";
import type pg from "pg";
import type { IslandMasters } from "./island-masters.js";
import {
  CatalogTooNewError,
  IdEnvironmentMismatchError,
  WrongIslandError,
} from "./migrate-errors.js";
import { inTransaction } from "./transaction.js";

export interface CatalogInstallResult {
  readonly island: number;
  readonly fromVersion: number;
  readonly toVersion: number;
  /** False when the catalog was already current and nothing was written. */
  readonly changed: boolean;
}

/** Installs the catalog on every island master of the cluster. */
export async function installCatalog(
  masters: IslandMasters,
  options: { targetVersion?: number } = {},
): Promise<CatalogInstallResult[]> {
  return Promise.all(
    masters.islandNumbers.map((island) =>
      masters.withClient(island, (client) =>
        installCatalogOn(client, {
          island,
          idEnvironment: masters.config.idEnvironment,
          ...(options.targetVersion === undefined ? {} : { targetVersion: options.targetVersion }),
        }),
      ),
    ),
  );
}

/** Installs the catalog through one connection to one island master. */
export async function installCatalogOn(
  client: pg.ClientBase,
  options: { island: number; idEnvironment: number; targetVersion?: number },
): Promise<CatalogInstallResult> {
  const { island } = options;
  const target = options.targetVersion ?? LATEST_CATALOG_VERSION;
  return inTransaction(client, async () => {
    await client.query(CATALOG_INSTALL_LOCK_SQL);
    await client.query(CATALOG_BOOTSTRAP_SQL);
    const { rows } = await client.query<{ version: number }>(CATALOG_READ_VERSION_SQL);
    const fromVersion = rows[0]?.version ?? 0;
    if (fromVersion > LATEST_CATALOG_VERSION) {
      throw new CatalogTooNewError(island, fromVersion, LATEST_CATALOG_VERSION);
    }
    let changed = false;
    for (const step of catalogUpgradeSteps(fromVersion, Math.max(target, fromVersion))) {
      await client.query(step.sql);
      changed = true;
    }
    const identity = await client.query<{ island: number; id_environment: number }>(
      CATALOG_READ_IDENTITY_SQL,
    );
    const recorded = identity.rows[0];
    if (recorded === undefined) {
      await client.query(CATALOG_CLAIM_IDENTITY_SQL, [island, options.idEnvironment]);
      changed = true;
    } else if (recorded.island !== island) {
      throw new WrongIslandError(island, recorded.island);
    } else if (recorded.id_environment !== options.idEnvironment) {
      // IDs already generated carry the recorded digit; changing it would split one cluster's IDs.
      throw new IdEnvironmentMismatchError(island, options.idEnvironment, recorded.id_environment);
    }
    // Read before writing: even a no-op upsert would lock the rows, costing a transaction and WAL.
    const edges = await client.query<{
      from_state: string;
      to_state: string;
      generation_delta: number;
    }>(CATALOG_READ_TRANSITIONS_SQL);
    if (!transitionsMatch(edges.rows)) {
      await client.query(CATALOG_SYNC_TRANSITIONS_SQL, [transitionsParameter()]);
      changed = true;
    }
    const toVersion = Math.max(target, fromVersion);
    if (changed) await client.query(CATALOG_WRITE_VERSION_SQL, [toVersion]);
    return { island, fromVersion, toVersion, changed };
  });
}
