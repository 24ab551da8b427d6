import type pg from "pg";

/** Runs `work` inside BEGIN/COMMIT on `client`, rolling back when it throws. */
export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {
      // The connection may be gone; the server rolls back on its own then.
    });
    throw error;
  }
}
