import type { MicroshardState } from "@archipelago/topology";
import type { IslandMasters } from "./island-masters.js";

export interface CatalogRow {
  readonly island: number;
  readonly microshard: number;
  readonly state: MicroshardState;
  readonly generation: number;
  readonly schemaName: string;
}

/**
 * Every island master's catalog rows, read in parallel. All islands must answer: callers use this to
 * decide which numbers are free, and a silent island could hold any of them.
 */
export async function readCatalogs(masters: IslandMasters): Promise<CatalogRow[]> {
  const perIsland = await Promise.all(
    masters.islandNumbers.map(async (island) => {
      const pool = await masters.pool(island);
      const { rows } = await pool.query<{
        microshard: number;
        state: MicroshardState;
        generation: number;
        schema_name: string;
      }>(
        "SELECT microshard, state, generation, schema_name FROM archipelago.microshards ORDER BY microshard",
      );
      return rows.map((r) => ({
        island,
        microshard: r.microshard,
        state: r.state,
        generation: r.generation,
        schemaName: r.schema_name,
      }));
    }),
  );
  return perIsland.flat();
}
