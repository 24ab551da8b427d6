import type { LocalCluster } from "@archipelago/testkit";

/** Every logical slot, publication and subscription on the islands' masters (a finished move leaves none). */
export async function replicationLeftovers(local: LocalCluster): Promise<unknown[]> {
  const found: unknown[] = [];
  for (const { island } of local.islands) {
    const master = local.master(island);
    found.push(
      ...(await master.query(
        "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical'",
      )),
      ...(await master.query("SELECT pubname FROM pg_publication")),
      ...(await master.query("SELECT subname FROM pg_subscription")),
    );
  }
  return found;
}
