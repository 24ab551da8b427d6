import { InvalidConfigError } from "@archipelago/topology";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  parseRetryPolicy,
  type RetryPolicy,
  retryDelayMs,
} from "./retry-policy.js";

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseRetryPolicy(input as Partial<RetryPolicy>);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigError);
    return [...(e as InvalidConfigError).issues];
  }
  throw new Error("expected InvalidConfigError");
}

describe("parseRetryPolicy", () => {
  it("fills the documented defaults", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      initialIntervalMs: 50,
      backoffCoefficient: 2,
      maximumIntervalMs: 1000,
      deadlineMs: 10_000,
      jitter: 0.2,
    });
    expect(parseRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
    expect(parseRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY);
    expect(parseRetryPolicy({ deadlineMs: 30_000 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      deadlineMs: 30_000,
    });
  });

  it("returns a frozen copy and does not modify its input", () => {
    const input = Object.freeze({ jitter: 0 });
    const policy = parseRetryPolicy(input);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
    expect(input).toEqual({ jitter: 0 });
  });

  it("accepts the edges: zero delays, a constant backoff, no jitter or full jitter", () => {
    expect(
      parseRetryPolicy({
        initialIntervalMs: 0,
        maximumIntervalMs: 0,
        backoffCoefficient: 1,
        deadlineMs: 0,
        jitter: 1,
      }),
    ).toMatchObject({ initialIntervalMs: 0, backoffCoefficient: 1, jitter: 1 });
  });

  it.each([
    [{ backoffCoefficient: 0.5 }, "retry.backoffCoefficient", "must be ≥ 1"],
    [{ initialIntervalMs: -1 }, "retry.initialIntervalMs", "must be ≥ 0"],
    [{ deadlineMs: -5 }, "retry.deadlineMs", "must be ≥ 0"],
    [{ jitter: 1.5 }, "retry.jitter", "must be from 0 to 1"],
    [{ jitter: -0.1 }, "retry.jitter", "must be from 0 to 1"],
    [{ maximumIntervalMs: Number.POSITIVE_INFINITY }, "retry.maximumIntervalMs", "finite"],
    [{ deadlineMs: Number.NaN }, "retry.deadlineMs", "finite"],
    [{ deadlineMs: "10s" }, "retry.deadlineMs", "number"],
    [
      { initialIntervalMs: 500, maximumIntervalMs: 100 },
      "retry.maximumIntervalMs",
      "must be ≥ initialIntervalMs",
    ],
    [{ initialIntervalMs: 2000 }, "retry.maximumIntervalMs", "must be ≥ initialIntervalMs"],
  ])("rejects %j naming %s", (input, path, message) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toContain(message);
  });

  it("names the field in the error message", () => {
    expect(() => parseRetryPolicy({ backoffCoefficient: 0 })).toThrow(
      "retry.backoffCoefficient: must be ≥ 1",
    );
  });

  it("rejects unknown fields, such as Temporal's names", () => {
    const issues = issuesOf({ initialInterval: 50 });
    expect(issues[0]?.path).toBe("retry");
    expect(issues[0]?.message).toContain("initialInterval");
  });

  it("reports every bad field at once", () => {
    const paths = issuesOf({ backoffCoefficient: 0, jitter: 2 }).map((i) => i.path);
    expect(paths.sort()).toEqual(["retry.backoffCoefficient", "retry.jitter"]);
  });

  it("rejects non-objects", () => {
    expect(issuesOf(null)[0]?.path).toBe("retry");
    expect(issuesOf(5)[0]?.path).toBe("retry");
  });
});

describe("retryDelayMs", () => {
  const noJitter = { ...DEFAULT_RETRY_POLICY, jitter: 0 };

  it("grows exponentially from the initial interval up to the maximum", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 100].map((n) => retryDelayMs(noJitter, n));
    expect(delays).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("stays at the cap for huge attempt numbers, and at 0 for a zero interval", () => {
    expect(retryDelayMs(noJitter, 100_000)).toBe(1000);
    const zero = { ...noJitter, initialIntervalMs: 0, maximumIntervalMs: 0 };
    expect(retryDelayMs(zero, 100_000)).toBe(0);
  });

  it("takes up to `jitter` off each delay", () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0)).toBe(50);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 0.5)).toBe(45);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 5, () => 0.999_999)).toBe(640);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 9, () => 1)).toBe(800);
  });

  it("clamps a misbehaving random source", () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => -3)).toBe(50);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 7)).toBe(40);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects attempt %s", (attempt) => {
    expect(() => retryDelayMs(DEFAULT_RETRY_POLICY, attempt)).toThrow(RangeError);
  });

  it("is a whole number within [cap × (1 − jitter), cap] and never decreases without jitter", () => {
    const policy = fc.record({
      initialIntervalMs: fc.integer({ min: 0, max: 5000 }),
      backoffCoefficient: fc.double({ min: 1, max: 10, noNaN: true }),
      extra: fc.integer({ min: 0, max: 60_000 }),
      deadlineMs: fc.integer({ min: 0, max: 60_000 }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        ({ extra, ...p }, attempt, r) => {
          const parsed = parseRetryPolicy({ ...p, maximumIntervalMs: p.initialIntervalMs + extra });
          const delay = retryDelayMs(parsed, attempt, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(parsed.maximumIntervalMs);
          const steady = { ...parsed, jitter: 0 };
          expect(retryDelayMs(steady, attempt + 1)).toBeGreaterThanOrEqual(
            retryDelayMs(steady, attempt),
          );
          expect(delay).toBeGreaterThanOrEqual(
            Math.floor(retryDelayMs(steady, attempt) * (1 - parsed.jitter)) - 1,
          );
        },
      ),
    );
  });
});
