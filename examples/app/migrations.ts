import { join } from "node:path";
import { loadMigrations, type Migration, orderMigrations } from "@archipelago/migrate";

/**
 * Every migration the example app needs: examples/migrations (users, topics and the demo's tables)
 * followed by the app's own in examples/app/migrations (versions 0101 on, so the two folders never
 * collide). Pass the result to `allocateMicroshards` and `runMigrations`.
 */
export function exampleAppMigrations(): Migration[] {
  return orderMigrations([
    ...loadMigrations(join(import.meta.dirname, "../migrations")),
    ...loadMigrations(join(import.meta.dirname, "migrations")),
  ]);
}
