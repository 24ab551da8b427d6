/**
 * A viewer's session: the WAL positions of their own writes, for read-after-write.
 *
 * The problem: a viewer writes through the master, then reads; a replica that has not replayed the
 * write yet would show them the past. So after a write the client records the master's WAL position,
 * and a read of that microshard may go to a replica only once the replica has replayed past it
 * (DESIGN §6). The session carries these positions across requests and processes (a cookie, a header).
 *
 * A position is keyed by island, microshard and generation, because it is only comparable with
 * positions of the same island's WAL, and only meaningful while the microshard stays where it was
 * written: after a move (generation + 1) the old island's positions say nothing about the new island,
 * and a frozen source copy may have replayed far past them, so they must never let it serve a read.
 * `newestGeneration` lets the client notice a session written after a move its own map has not seen
 * yet, and rediscover before reading.
 *
 * Rejected: one position per island (a write to one microshard would send every read of the island to
 * the master), and a timestamp ("read from the master for 2 s after a write"), which is a guess about
 * replication lag rather than a fact.
 *
 * Serialized form: base64url of `{"v":1,"w":[[island, microshard, generation, "LSN"], …]}`, oldest
 * first. It is bounded to `SESSION_MAX_ENTRIES` entries (the oldest recorded are dropped): about 30
 * characters an entry once encoded, so a handful of recent writes (the usual case) is a few hundred
 * characters, and a full session is at most about 12 KB, which is header-sized rather than
 * cookie-sized (browsers cap a cookie near 4 KB). Input is never trusted: anything else is an
 * `InvalidSessionError`.
 */
import { MAX_MICROSHARD } from "@archipelago/topology";
import { z } from "zod";
import { InvalidSessionError } from "./client-errors.js";
import { formatLsn, parseLsn } from "./lsn.js";

/** Entries kept per session; recording more drops the oldest recorded. */
export const SESSION_MAX_ENTRIES = 256;

const VERSION = 1;
/** Longest serialized text accepted; well above what `SESSION_MAX_ENTRIES` entries produce. */
const MAX_TEXT_LENGTH = 64 * 1024;
const MAX_LSN = (1n << 64n) - 1n;

interface Entry {
  readonly island: number;
  readonly microshard: number;
  readonly generation: number;
  readonly lsn: bigint;
}

const entrySchema = z.tuple([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.number().int().min(0).max(MAX_MICROSHARD),
  z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  z.string().max(17),
]);

const sessionSchema = z.strictObject({
  v: z.literal(VERSION),
  w: z.array(entrySchema).max(SESSION_MAX_ENTRIES),
});

export class Session {
  /** In recording order, oldest first (a `Map` keeps insertion order). */
  readonly #entries = new Map<string, Entry>();

  /** After a write: the master's WAL position for (island, microshard, generation). Keeps the max. */
  recordWrite(island: number, microshard: number, generation: number, lsn: bigint): void {
    checkArguments(island, microshard, generation);
    if (typeof lsn !== "bigint" || lsn < 0n || lsn > MAX_LSN) {
      throw new RangeError(`lsn must be a bigint from 0 to 2^64 - 1, got ${String(lsn)}`);
    }
    const newest = this.newestGeneration(microshard);
    // A write acknowledged at an older generation than one already recorded raced with a move; its
    // position belongs to a copy that no longer serves the microshard, so it is meaningless.
    if (newest !== undefined && generation < newest) return;
    if (newest !== undefined && generation > newest) {
      for (const [key, entry] of this.#entries) {
        if (entry.microshard === microshard) this.#entries.delete(key);
      }
    }
    const key = `${island}:${microshard}:${generation}`;
    const previous = this.#entries.get(key);
    this.#entries.delete(key); // re-inserted below as the newest recorded
    this.#entries.set(key, {
      island,
      microshard,
      generation,
      lsn: previous && previous.lsn > lsn ? previous.lsn : lsn,
    });
    while (this.#entries.size > SESSION_MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /**
   * The position a node must have replayed to serve this microshard on this island at this
   * generation, or undefined. Positions of other islands or generations never apply.
   */
  requiredPosition(island: number, microshard: number, generation: number): bigint | undefined {
    return this.#entries.get(`${island}:${microshard}:${generation}`)?.lsn;
  }

  /** The newest generation this session has written for the microshard (to detect a process map older than the session). */
  newestGeneration(microshard: number): number | undefined {
    let newest: number | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.microshard === microshard && (newest === undefined || entry.generation > newest)) {
        newest = entry.generation;
      }
    }
    return newest;
  }

  /** Number of recorded positions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Compact and URL/cookie safe: base64url of a versioned JSON, oldest entry first. */
  serialize(): string {
    const w = [...this.#entries.values()].map((e) => [
      e.island,
      e.microshard,
      e.generation,
      formatLsn(e.lsn),
    ]);
    return Buffer.from(JSON.stringify({ v: VERSION, w }), "utf8").toString("base64url");
  }

  /** The session `serialize` wrote. @throws InvalidSessionError for anything else. */
  static deserialize(text: string): Session {
    if (typeof text !== "string" || text.length === 0) {
      throw new InvalidSessionError("expected a non-empty string");
    }
    if (text.length > MAX_TEXT_LENGTH) {
      throw new InvalidSessionError(`longer than ${MAX_TEXT_LENGTH} characters`);
    }
    // Buffer's decoder skips characters outside the alphabet, so check the alphabet first.
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new InvalidSessionError("not base64url");
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    } catch {
      throw new InvalidSessionError("not base64url-encoded JSON");
    }
    const result = sessionSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new InvalidSessionError(`unexpected content (${path}${issue?.message ?? "invalid"})`);
    }
    const session = new Session();
    for (const [island, microshard, generation, lsnText] of result.data.w) {
      let lsn: bigint;
      try {
        lsn = parseLsn(lsnText);
      } catch {
        throw new InvalidSessionError("an entry has an invalid WAL position");
      }
      session.recordWrite(island, microshard, generation, lsn);
    }
    return session;
  }
}

function checkArguments(island: number, microshard: number, generation: number): void {
  if (!Number.isSafeInteger(island) || island < 0) {
    throw new RangeError(`island must be a non-negative integer, got ${island}`);
  }
  if (!Number.isSafeInteger(microshard) || microshard < 0 || microshard > MAX_MICROSHARD) {
    throw new RangeError(
      `microshard must be an integer from 0 to ${MAX_MICROSHARD}, got ${microshard}`,
    );
  }
  if (!Number.isSafeInteger(generation) || generation < 1) {
    throw new RangeError(`generation must be a positive integer, got ${generation}`);
  }
}
