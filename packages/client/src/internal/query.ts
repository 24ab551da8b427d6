/**
 * `client.query(text, values)` as a promise, through node-postgres's callback form.
 *
 * The promise form (`await client.query(text, values)`) costs far more in garbage collection: with it,
 * about 2 MB of objects survive each young-generation collection and are promoted to the old
 * generation, against a few KB with the callback form (`--trace-gc-nvp`, one connection, 100-row
 * statements in a loop; `pool.query` uses the callback form internally, which is why a hand-written
 * `pool.query` loop does not pay it). On the load path that was most of the client's overhead over
 * hand-written code. Errors get the stack trace of the caller, as the promise form gives them.
 */
import type pg from "pg";

export function query<R extends pg.QueryResultRow = Record<string, unknown>>(
  client: pg.ClientBase,
  text: string,
  values?: readonly unknown[],
): Promise<pg.QueryResult<R>> {
  return new Promise<pg.QueryResult<R>>((resolve, reject) => {
    client.query<R>(text, (values ?? []) as unknown[], (error, result) => {
      if (error) reject(error);
      else resolve(result);
    });
  }).catch(restack);
}

/** As node-postgres's promise form: the stack leads back to the caller, not to the socket read. */
function restack(error: unknown): never {
  if (typeof error === "object" && error !== null) Error.captureStackTrace(error);
  throw error;
}
