/**
 * The demo's running app: it inserts users one at a time into the given microshards, round robin,
 * through the client (so it rides through failovers and moves as a real app does), and remembers every
 * write PostgreSQL acknowledged, so that the demo can check afterwards that none was lost.
 */
import type { Cluster } from "@archipelago/client";
import { microshardSchema } from "@archipelago/topology";

export interface DemoWriter {
  /** Writes acknowledged so far. */
  readonly acknowledged: number;
  /** Writes that failed (each is printed as it happens). */
  readonly errors: number;
  /** The slowest write, in ms (one that waited out a failover or a switch). */
  readonly slowestMs: number;
  stop(): Promise<void>;
  /** After `stop`: acknowledged rows missing from their microshards now (read on the masters). */
  lost(): Promise<number>;
}

export function startDemoWriter(
  client: Cluster,
  label: string,
  microshards: readonly number[],
): DemoWriter {
  const acknowledged = new Map<number, string[]>();
  let count = 0;
  let errors = 0;
  let slowestMs = 0;
  let stop = false;
  const running = (async () => {
    for (let n = 1; !stop; n++) {
      const microshard = microshards[n % microshards.length] as number;
      const email = `${label}-${n}@acme.test`;
      const started = performance.now();
      try {
        // Idempotent (a unique email, ON CONFLICT DO NOTHING): if a failover leaves a write's
        // outcome unknown, the client may safely send it again.
        await client.shard(microshard).query(
          `INSERT INTO ${microshardSchema(microshard)}.users (workspace_id, email, name)
           VALUES (0, $1, $2) ON CONFLICT (email) DO NOTHING`,
          [email, label],
          { write: true, idempotent: true },
        );
        acknowledged.set(microshard, [...(acknowledged.get(microshard) ?? []), email]);
        count++;
      } catch (error) {
        errors++;
        console.log(`  [app] write ${n} failed: ${(error as Error).message}`);
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
    }
  })();
  return {
    get acknowledged() {
      return count;
    },
    get errors() {
      return errors;
    },
    get slowestMs() {
      return slowestMs;
    },
    async stop() {
      stop = true;
      await running;
    },
    async lost() {
      await client.rediscover();
      let lost = 0;
      for (const [microshard, emails] of acknowledged) {
        const rows = await client
          .shard(microshard)
          .query<{ email: string }>(`SELECT email FROM ${microshardSchema(microshard)}.users`, [], {
            role: "master",
          });
        const stored = new Set(rows.map((r) => r.email));
        lost += emails.filter((e) => !stored.has(e)).length;
      }
      return lost;
    },
  };
}
