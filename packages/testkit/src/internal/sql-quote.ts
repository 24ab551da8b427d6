/** Quotes an SQL identifier (for statements that take no bind parameters, like CREATE DATABASE). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal (ALTER SYSTEM takes no bind parameters). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Quotes a libpq conninfo value. Values are quoted unconditionally so that a space, quote or backslash
 * in a path or user name cannot split the string into other keywords.
 */
export function quoteConninfoValue(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
