/**
 * The microshard state machine: the states of one island's copy of a microshard, and the edges between
 * them, as data.
 *
 * The problem: a move changes the catalogs of two islands, which live in different databases, so no
 * transaction can flip both. What keeps a microshard from being active on two islands is the order of
 * the edges (the source's `send` commits before the target's `activate`) and this table, checked by
 * `assertTransition` on every catalog write, as vshard checks `bucket_state_edges` on every bucket update.
 *
 * `absent` is "no row on this island"; it is never stored, so it is not in `MICROSHARD_STATES` (the
 * catalog's CHECK list). Rejected additions:
 * - `sending` (vshard has it): the source stays `active` and writable during copy and catch-up, and the
 *   write block of the switch is a PostgreSQL lock held by the very transaction that commits `sent`, so
 *   no session can observe an in-between state; a stored one would only add a crash case.
 * - `sent → active` (undo a send): once the source is `sent`, the target may already be active and
 *   written, which one island's catalog cannot rule out; a half-done switch is always rolled forward.
 * - `pinned`: keeping a microshard in place is the planner's business, not a property of a copy.
 *
 * Invariants over all islands (`checkPlacementInvariant` checks what rows can show):
 * 1. A microshard is never active on two islands. It is active on exactly one, except in the switch
 *    window between the source's `send` commit and the target's `activate` commit, where it is active
 *    nowhere; the mover's deadline bounds that window (rows carry no clock, so it is not checked here).
 * 2. Each move increases the generation by exactly one, and both islands agree on the new value. The
 *    new row's generation is "base + delta": `allocate` starts from 0 (a new microshard is generation
 *    1); `begin-receive` records the source's generation g. The source's `send` sets g + 1 in the
 *    transaction that renames its schema; the target's `activate` then sets its own g to g + 1, which
 *    the mover checks equals the source's `sent` generation before it commits.
 * 3. An active copy is never older than a retired one: its generation is at least every `sent` one.
 */
import { IllegalTransitionError } from "./errors.js";

/** States stored in an island's catalog. */
export const MICROSHARD_STATES = Object.freeze(["active", "receiving", "sent", "garbage"] as const);
/**
 * - `active`: the one readable, writable copy.
 * - `receiving`: a move's target, copy in progress; not readable.
 * - `sent`: a move's source after the switch; frozen, schema renamed, kept until the cleanup delay.
 * - `garbage`: a copy to drop (an aborted receive, or an expired sent copy).
 */
export type MicroshardState = (typeof MICROSHARD_STATES)[number];

/** No row for the microshard on this island. */
export const ABSENT = "absent";
export type MicroshardStateOrAbsent = MicroshardState | typeof ABSENT;

export const MICROSHARD_EVENTS = Object.freeze([
  "allocate",
  "begin-receive",
  "activate",
  "send",
  "abort-receive",
  "expire",
  "drop",
] as const);
export type MicroshardEvent = (typeof MICROSHARD_EVENTS)[number];

export interface MicroshardEdge {
  readonly from: MicroshardStateOrAbsent;
  readonly event: MicroshardEvent;
  readonly to: MicroshardStateOrAbsent;
  /** Added to the row's generation (see invariant 2 for the base of a new row). */
  readonly generationDelta: 0 | 1;
  /** Why the edge exists, in one line. */
  readonly note: string;
}

// from, event, to, generation delta, note
const EDGES = [
  ["absent", "allocate", "active", 1, "a new microshard starts at generation 1"],
  ["absent", "begin-receive", "receiving", 0, "a move's target copies from the source at g"],
  ["active", "send", "sent", 1, "switch, source first: locked, renamed, g + 1"],
  ["receiving", "activate", "active", 1, "switch, target second: g + 1, as the source"],
  ["receiving", "abort-receive", "garbage", 0, "the move failed before the switch"],
  ["sent", "expire", "garbage", 0, "the cleanup delay after the switch has passed"],
  ["garbage", "drop", "absent", 0, "the schema is dropped and the row deleted"],
] as const;

/** Every allowed edge; anything else is an `IllegalTransitionError`. */
export const MICROSHARD_TRANSITIONS: readonly MicroshardEdge[] = Object.freeze(
  EDGES.map(([from, event, to, generationDelta, note]) =>
    Object.freeze({ from, event, to, generationDelta, note }),
  ),
);

const byEvent = new Map(MICROSHARD_TRANSITIONS.map((e) => [`${e.from}:${e.event}`, e]));
const byTarget = new Map(MICROSHARD_TRANSITIONS.map((e) => [`${e.from}:${e.to}`, e]));

/** The result of `event` on a copy in state `from`. @throws IllegalTransitionError */
export function transition(
  from: MicroshardStateOrAbsent,
  event: MicroshardEvent,
): { to: MicroshardStateOrAbsent; generationDelta: 0 | 1 } {
  const edge = byEvent.get(`${from}:${event}`);
  if (!edge) throw new IllegalTransitionError(from, event);
  return { to: edge.to, generationDelta: edge.generationDelta };
}

/**
 * Checks that some event leads from `from` to `to`; call it on every catalog write.
 * @throws IllegalTransitionError
 */
export function assertTransition(
  from: MicroshardStateOrAbsent,
  to: MicroshardStateOrAbsent,
): MicroshardEdge {
  const edge = byTarget.get(`${from}:${to}`);
  if (!edge) throw new IllegalTransitionError(from, `→ ${to}`);
  return edge;
}

export function isMicroshardState(x: unknown): x is MicroshardState {
  return (MICROSHARD_STATES as readonly unknown[]).includes(x);
}

/** Only an active copy may serve reads; a receiving one is incomplete, a sent one is stale. */
export function isReadable(state: MicroshardStateOrAbsent): boolean {
  return state === "active";
}

export function isWritable(state: MicroshardStateOrAbsent): boolean {
  return state === "active";
}

/** One island's catalog row for one microshard. */
export interface PlacementRow {
  readonly island: number;
  readonly microshard: number;
  readonly state: MicroshardState;
  readonly generation: number;
}

export type PlacementViolationKind =
  | "invalid-row"
  | "duplicate-row"
  | "active-on-two-islands"
  | "stale-active"
  | "sent-generation-reused"
  | "no-roll-forward-target";

export interface PlacementViolation {
  readonly kind: PlacementViolationKind;
  readonly microshard: number;
  readonly islands: readonly number[];
  readonly message: string;
}

/**
 * The invariant breaches visible in a set of catalog rows from every island (empty when healthy),
 * ordered by microshard. Pure; the input is not modified.
 */
export function checkPlacementInvariant(rows: readonly PlacementRow[]): PlacementViolation[] {
  const groups = new Map<number, PlacementRow[]>();
  for (const row of rows) {
    const group = groups.get(row.microshard);
    if (group) group.push(row);
    else groups.set(row.microshard, [row]);
  }
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .flatMap((m) => checkMicroshard(m, groups.get(m) ?? []));
}

function checkMicroshard(microshard: number, rows: readonly PlacementRow[]): PlacementViolation[] {
  const out: PlacementViolation[] = [];
  const add = (kind: PlacementViolationKind, of: readonly PlacementRow[], message: string) =>
    out.push({ kind, microshard, islands: of.map((r) => r.island), message });

  for (const row of rows) {
    if (
      !isMicroshardState(row.state) ||
      !Number.isSafeInteger(row.generation) ||
      row.generation < 1
    ) {
      add(
        "invalid-row",
        [row],
        `state "${row.state}" generation ${row.generation} is not a valid row`,
      );
    }
  }
  const islands = new Set<number>();
  for (const row of rows) {
    if (islands.has(row.island)) add("duplicate-row", [row], `island ${row.island} has two rows`);
    islands.add(row.island);
  }

  const active = rows.filter((r) => r.state === "active");
  const sent = rows.filter((r) => r.state === "sent");
  if (active.length > 1) {
    const same = new Set(active.map((r) => r.generation)).size < active.length;
    add(
      "active-on-two-islands",
      active,
      `active on ${active.length} islands${same ? ", with equal generations" : ""}`,
    );
  }
  const newestSent = Math.max(0, ...sent.map((r) => r.generation));
  for (const row of active) {
    if (row.generation < newestSent) {
      add(
        "stale-active",
        [row],
        `active at generation ${row.generation}, older than a sent copy at ${newestSent}`,
      );
    }
  }
  for (const generation of new Set(sent.map((r) => r.generation))) {
    const same = sent.filter((r) => r.generation === generation);
    if (same.length > 1) {
      add("sent-generation-reused", same, `${same.length} copies sent at generation ${generation}`);
    }
  }
  // In the switch window the copy to roll forward is the receiving one at the sent generation - 1.
  const successor = rows.some((r) => r.state === "receiving" && r.generation === newestSent - 1);
  if (active.length === 0 && sent.length > 0 && !successor) {
    add(
      "no-roll-forward-target",
      sent,
      `sent at generation ${newestSent} but no island is active or receiving it`,
    );
  }
  return out;
}
