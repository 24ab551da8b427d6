/**
 * How long and how often the client retries a statement that provably was not applied.
 *
 * The problem: a move's switch (DESIGN §4–5) and a master failover (§6) each make an island refuse a
 * microshard's statements for a short, bounded time. The client rides through by retrying with
 * exponential backoff until a deadline. The deadline, not a count of attempts, is the limit the caller
 * cares about ("give up after 10 s"); an attempt count would make the tolerated outage depend on how
 * fast each attempt fails. Ent Framework's fixed 1 s × 2 retries is what this replaces: too slow for a
 * 50 ms blip, too short for a 5 s failover.
 *
 * The shape follows Temporal's `RetryPolicy`: a documented interface with a `@default` per field,
 * validated once (zod) into a frozen value. Jitter spreads the retries of many processes that all saw
 * the same switch, so they do not hit the new island in lockstep.
 */
import { InvalidConfigError } from "@archipelago/topology";
import { z } from "zod";

export interface RetryPolicy {
  /** Delay before the first retry, in milliseconds. @default 50 */
  readonly initialIntervalMs: number;
  /** Each delay is the previous one times this (≥ 1). @default 2 */
  readonly backoffCoefficient: number;
  /** Upper bound of a single delay, in milliseconds. @default 1000 */
  readonly maximumIntervalMs: number;
  /**
   * Total time a call may spend retrying "not applied" errors; covers a move's switch and a failover.
   * @default 10000
   */
  readonly deadlineMs: number;
  /** Fraction of each delay randomized, 0..1: a delay d becomes a value in [d × (1 − jitter), d]. @default 0.2 */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialIntervalMs: 50,
  backoffCoefficient: 2,
  maximumIntervalMs: 1_000,
  deadlineMs: 10_000,
  jitter: 0.2,
});

// zod 4's `number()` already rejects NaN and ±Infinity.
const milliseconds = z
  .number({ error: "must be a finite number of milliseconds" })
  .min(0, { error: "must be ≥ 0" });

const retryPolicySchema = z
  .strictObject({
    initialIntervalMs: milliseconds.default(DEFAULT_RETRY_POLICY.initialIntervalMs),
    backoffCoefficient: z
      .number({ error: "must be a finite number" })
      .min(1, { error: "must be ≥ 1" })
      .default(DEFAULT_RETRY_POLICY.backoffCoefficient),
    maximumIntervalMs: milliseconds.default(DEFAULT_RETRY_POLICY.maximumIntervalMs),
    deadlineMs: milliseconds.default(DEFAULT_RETRY_POLICY.deadlineMs),
    jitter: z
      .number({ error: "must be a finite number" })
      .min(0, { error: "must be from 0 to 1" })
      .max(1, { error: "must be from 0 to 1" })
      .default(DEFAULT_RETRY_POLICY.jitter),
  })
  .refine((p) => p.maximumIntervalMs >= p.initialIntervalMs, {
    error: "must be ≥ initialIntervalMs",
    path: ["maximumIntervalMs"],
  });

/**
 * A complete, frozen policy from a partial one (`undefined` gives the defaults).
 * @throws InvalidConfigError naming each bad field, e.g. `retry.backoffCoefficient: must be ≥ 1`.
 */
export function parseRetryPolicy(input: Partial<RetryPolicy> | undefined): RetryPolicy {
  const result = retryPolicySchema.safeParse(input === undefined ? {} : input);
  if (!result.success) {
    throw new InvalidConfigError(
      result.error.issues.map((issue) => ({
        path: ["retry", ...issue.path.map(String)].join("."),
        message: issue.message,
      })),
    );
  }
  return Object.freeze({ ...result.data });
}

/**
 * The delay before retry number `attempt` (1 = the first retry): `initialIntervalMs ×
 * backoffCoefficient^(attempt − 1)`, capped at `maximumIntervalMs`, then reduced by up to `jitter` of
 * itself, so a delay never exceeds the cap. Whole milliseconds. The deadline is the caller's to check.
 * @throws RangeError when `attempt` is not a positive integer.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer (1 = first retry), got ${attempt}`);
  }
  const { initialIntervalMs, backoffCoefficient, maximumIntervalMs, jitter } = policy;
  // 0 × Infinity would be NaN, so a zero interval stays zero however many attempts.
  const grown =
    initialIntervalMs === 0 ? 0 : initialIntervalMs * backoffCoefficient ** (attempt - 1);
  const capped = Math.min(maximumIntervalMs, grown);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(capped * (1 - jitter * r));
}
