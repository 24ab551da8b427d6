/**
 * Privacy: who may read and write which rows.
 *
 * Read rules run in order; each either allows (`allowIf`) or denies (`denyIf`) when its predicate
 * holds, and otherwise has no opinion, so the first rule that decides wins and a cheap `denyIf` can
 * guard an expensive `allowIf` after it. When no rule decides, the row is not readable: forgetting a
 * rule hides rows rather than exposing them. Write rules (`require`) must all pass, because a write
 * that one check would refuse is never the safe default; an entity without write rules can be written
 * only by the omni viewer. The omni viewer skips every rule.
 *
 * Rules are plain objects with the predicate inline, so TypeScript types the row from the entity's
 * fields (a helper call in that position would leave the row `unknown`). A predicate may be async and
 * may load other entities; give them `vc.toOmni()` when the viewer itself cannot see them.
 */
import type { Viewer } from "./viewer.js";

type Predicate<R> = (vc: Viewer, row: R) => boolean | Promise<boolean>;

export type ReadRule<R> =
  | { readonly name?: string; readonly allowIf: Predicate<R> }
  | { readonly name?: string; readonly denyIf: Predicate<R> };

export interface WriteRule<R> {
  readonly name?: string;
  readonly require: Predicate<R>;
}

/** Allows every row (public data). */
export const allowAll: ReadRule<unknown> = { name: "allowAll", allowIf: () => true };

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
}

const OMNI: Decision = { allowed: true, reason: "omni" };

/**
 * Runs read rules in order; the first that decides wins; none deciding denies. Synchronous while the
 * predicates are (the common case, and the per-row cost of every load), a promise once one is not.
 */
export function evaluateRead<R>(
  rules: readonly ReadRule<R>[],
  vc: Viewer,
  row: R,
  from = 0,
): Decision | Promise<Decision> {
  if (vc.isOmni) return OMNI;
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i] as ReadRule<R>;
    const allow = "allowIf" in rule;
    const result = allow ? rule.allowIf(vc, row) : rule.denyIf(vc, row);
    if (typeof result !== "boolean") {
      return result.then((holds) =>
        holds ? decide(rule, i, allow) : evaluateRead(rules, vc, row, i + 1),
      );
    }
    if (result) return decide(rule, i, allow);
  }
  return { allowed: false, reason: "no read rule allowed it" };
}

/** One frozen decision per rule, made once: this runs for every row read. */
const decisions = new WeakMap<object, Decision>();

function decide<R>(rule: ReadRule<R>, index: number, allow: boolean): Decision {
  // An unnamed rule is named by its position, which depends on the list it is in: not cached.
  if (rule.name === undefined) {
    const name = `read rule ${index}`;
    return allow
      ? { allowed: true, reason: name }
      : { allowed: false, reason: `denied by ${name}` };
  }
  let decision = decisions.get(rule);
  if (decision === undefined) {
    const name = rule.name;
    decision = Object.freeze(
      allow ? { allowed: true, reason: name } : { allowed: false, reason: `denied by ${name}` },
    );
    decisions.set(rule, decision);
  }
  return decision;
}

/** Runs write rules; all must pass; none declared means omni only. */
export async function evaluateWrite<R>(
  rules: readonly WriteRule<R>[],
  vc: Viewer,
  row: R,
): Promise<Decision> {
  if (vc.isOmni) return OMNI;
  if (rules.length === 0) return { allowed: false, reason: "no write rules: omni viewer only" };
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as WriteRule<R>;
    if (!(await rule.require(vc, row))) {
      return { allowed: false, reason: `refused by ${rule.name ?? `write rule ${i}`}` };
    }
  }
  return { allowed: true, reason: "every write rule passed" };
}
