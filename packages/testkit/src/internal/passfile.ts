/**
 * One line of a libpq passfile (`host:port:database:user:password`). `:` and `\` are the format's
 * separator and escape, so both are backslash-escaped in the user and password.
 */
export function passfileLine(host: string, user: string, password: string): string {
  return `${host}:*:*:${escapeField(user)}:${escapeField(password)}\n`;
}

function escapeField(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}
