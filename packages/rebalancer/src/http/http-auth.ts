/**
 * Bearer-token auth. The token is compared by its SHA-256 digest with `timingSafeEqual`, so neither
 * its length nor its prefix leaks through response times; it is never logged or echoed.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** At least this long, so that a guessable token cannot be configured by mistake. */
export const MIN_TOKEN_LENGTH = 16;

export class BearerAuth {
  readonly #digest: Buffer;

  constructor(token: string) {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new RangeError(`the HTTP token must be at least ${MIN_TOKEN_LENGTH} characters long`);
    }
    this.#digest = digest(token);
  }

  /** Whether an `Authorization` header value carries the token. */
  allows(header: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match?.[1]) return false;
    return timingSafeEqual(digest(match[1]), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
