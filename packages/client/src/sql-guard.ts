/**
 * Keeps a statement inside its microshard. A statement routed by microshard 5 runs on the island that
 * holds sh0005; naming any other microshard schema in it would read or write data on an island that
 * may not hold it (or, worse, a frozen copy). This is a check of the SQL we are about to send, not of
 * an error message: a schema name `shNNNN` other than the statement's own is refused before sending.
 */
import { microshardSchema } from "@archipelago/topology";
import { CrossMicroshardError } from "./client-errors.js";

const SCHEMA_REFERENCE = /(?<![\w$])"?(sh\d{4})"?(?=\s*\.)/gi;

export function assertOwnMicroshard(sql: string, microshard: number): void {
  const own = microshardSchema(microshard);
  for (const match of sql.matchAll(SCHEMA_REFERENCE)) {
    const schema = (match[1] as string).toLowerCase();
    if (schema !== own) {
      throw new CrossMicroshardError({ expected: microshard, actual: Number(schema.slice(2)) });
    }
  }
}

/** Quotes an identifier (table or column name) for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
