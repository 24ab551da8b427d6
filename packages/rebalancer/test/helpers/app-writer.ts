import type { Cluster } from "@archipelago/client";

export interface AppWriter {
  /** Every write that failed (the app would have seen an error). */
  readonly errors: unknown[];
  /** Stops writing and returns how many acknowledged rows are missing from the microshards now. */
  stop(): Promise<number>;
}

/**
 * An app that writes one row at a time to `items` of microshards 1..`microshards`, round robin, through
 * the client (so it rides through moves and failovers like a real one), and remembers every row
 * PostgreSQL acknowledged so that a test can check none was lost.
 */
export function startAppWriter(cluster: Cluster, microshards: number, firstN: number): AppWriter {
  const acknowledged = new Map<number, number[]>();
  const errors: unknown[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const m = (i % microshards) + 1;
      const n = firstN + i;
      try {
        await cluster
          .shard(m)
          .query(`INSERT INTO sh000${m}.items (n) VALUES ($1) ON CONFLICT (n) DO NOTHING`, [n], {
            write: true,
            idempotent: true,
          });
        acknowledged.set(m, [...(acknowledged.get(m) ?? []), n]);
      } catch (error) {
        errors.push(error);
      }
    }
  })();
  return {
    errors,
    async stop(): Promise<number> {
      stop = true;
      await done;
      await cluster.rediscover();
      let lost = 0;
      for (const [m, ns] of acknowledged) {
        const rows = await cluster
          .shard(m)
          .query<{ n: number }>(`SELECT n FROM sh000${m}.items WHERE n >= $1`, [firstN], {
            role: "master",
          });
        const stored = new Set(rows.map((r) => r.n));
        lost += ns.filter((n) => !stored.has(n)).length;
      }
      return lost;
    },
  };
}
