/**
 * `--http [host:]port`: where the manager's HTTP server listens. Loopback unless a host is given,
 * because the API can stop and start moves. Pure.
 */
/** Loopback unless told otherwise: the API can stop and start moves. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";

export interface HttpAddress {
  readonly host: string;
  /** 0: any free port (the chosen URL is printed). */
  readonly port: number;
}

/** `8080`, `:8080`, `0.0.0.0:8080`, `[::1]:8080`; undefined when it is none of those. */
export function parseHttpAddress(text: string): HttpAddress | undefined {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)?:)?([0-9]{1,5})$/.exec(text.trim());
  if (!match?.[2]) return undefined;
  const port = Number(match[2]);
  if (port > 65_535) return undefined;
  const host = match[1] ? match[1].replace(/^\[(.*)\]$/, "$1") : DEFAULT_HTTP_HOST;
  return { host, port };
}
