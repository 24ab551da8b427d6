import { Cluster, type ClusterOptions, type QueryEvent } from "@archipelago/client";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  type Migration,
  parseMigration,
  readCatalogs,
} from "@archipelago/migrate";
import {
  type LocalCluster,
  type LocalClusterOptions,
  startLocalCluster,
} from "@archipelago/testkit";

/** One table in every microshard, and one in shard 0. */
export const TEST_MIGRATIONS = [
  parseMigration(
    "0001_items.sharded.sql",
    `CREATE TABLE items (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       n integer NOT NULL UNIQUE,
       note text
     );`,
  ),
  parseMigration(
    "0002_settings.global.sql",
    "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);",
  ),
];

export interface ClientFixture {
  readonly local: LocalCluster;
  readonly cluster: Cluster;
  readonly queries: QueryEvent[];
  /** The island each microshard was allocated on. */
  readonly placement: Map<number, number>;
  stop(): Promise<void>;
}

/** A real cluster with the catalog, shard 0 and `microshards` allocated, and a client on it. */
export async function startClientFixture(
  shape: LocalClusterOptions & { microshards: number },
  clientOptions: ClusterOptions = {},
  migrations: readonly Migration[] = TEST_MIGRATIONS,
): Promise<ClientFixture> {
  const local = await startLocalCluster(shape);
  const masters = new IslandMasters(local.config);
  try {
    await installCatalog(masters);
    await allocateMicroshards(masters, { numbers: [0], migrations: [...migrations] });
    if (shape.microshards > 0) {
      await allocateMicroshards(masters, { count: shape.microshards, migrations: [...migrations] });
    }
    const placement = new Map((await readCatalogs(masters)).map((r) => [r.microshard, r.island]));
    await local.waitForReplication();
    const cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000, ...clientOptions });
    const queries: QueryEvent[] = [];
    cluster.events.on("query", (e) => queries.push(e));
    return {
      local,
      cluster,
      queries,
      placement,
      stop: async () => {
        await cluster.end();
        await local.stop();
      },
    };
  } catch (error) {
    await local.stop();
    throw error;
  } finally {
    await masters.end();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
