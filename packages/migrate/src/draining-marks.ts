/**
 * Islands an operator marked draining (`archipelago drain`), read from the control catalog (the global
 * island's master). Allocation honours them like the config's own `draining` flag, so a drained island
 * receives no new microshard whichever tool allocates.
 */
import type pg from "pg";

export async function readDrainingIslands(control: pg.Pool | pg.ClientBase): Promise<Set<number>> {
  try {
    const { rows } = await control.query<{ island: number }>(
      "SELECT island FROM archipelago.draining_islands",
    );
    return new Set(rows.map((r) => r.island));
  } catch (error) {
    // A catalog older than version 4 has no marks.
    if ((error as { code?: string }).code === "42P01") return new Set();
    throw error;
  }
}
