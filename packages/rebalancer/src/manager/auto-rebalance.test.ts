import { describe, expect, it } from "vitest";
import {
  type AutoMeasurement,
  type AutoMemory,
  DEFAULT_AUTO_REBALANCE,
  decideAutoRebalance,
  INITIAL_AUTO_MEMORY,
} from "./auto-rebalance.js";

const options = { ...DEFAULT_AUTO_REBALANCE, confirmations: 2, cooldownMs: 1_000 };

function measured(at: number, imbalance: number | null, islands = [1, 2]): AutoMeasurement {
  return {
    at,
    imbalance,
    islands: islands.map((island) => ({ island, draining: false, microshards: 4 })),
  };
}

/** Feeds measurements in order; returns each decision's action. */
function run(measurements: readonly AutoMeasurement[], live: readonly boolean[] = []) {
  let memory: AutoMemory = INITIAL_AUTO_MEMORY;
  return measurements.map((m, i) => {
    const out = decideAutoRebalance(m, memory, live[i] ?? false, options);
    memory = out.memory;
    return out.decision.action;
  });
}

describe("decideAutoRebalance", () => {
  it("stays quiet under the start line, even above the plan's threshold", () => {
    expect(run([measured(0, 1.2), measured(1, 1.24), measured(2, 1.15)])).toEqual([
      "none",
      "none",
      "none",
    ]);
  });

  it("starts only after the imbalance stays above the line for the confirmations", () => {
    expect(run([measured(0, 1.5), measured(1, 1.2), measured(2, 1.5), measured(3, 1.5)])).toEqual([
      "none",
      "none",
      "none",
      "rebalance",
    ]);
  });

  it("does nothing while a rebalance is live, and cools down after it", () => {
    const actions = run(
      [
        measured(0, 1.5),
        measured(100, 1.5),
        measured(200, 1.5),
        measured(300, 1.5),
        measured(1_200, 1.5),
      ],
      [true, false, false, false, false],
    );
    // Live at 0 → quiet until 1000; confirmed at 200 and 300 but cooling down; starts at 1200.
    expect(actions).toEqual(["none", "none", "none", "none", "rebalance"]);
  });

  it("rebalances at once when an island joins and leaves the cluster over the threshold", () => {
    expect(run([measured(0, 1.0, [1, 2]), measured(1, 1.5, [1, 2, 3])])).toEqual([
      "none",
      "rebalance",
    ]);
    // A joined island does not trigger anything when the cluster is still within the threshold.
    expect(run([measured(0, 1.0, [1, 2]), measured(1, 1.05, [1, 2, 3])])).toEqual(["none", "none"]);
  });

  it("drains a draining island that still holds microshards, and not an empty one", () => {
    const m = (microshards: number): AutoMeasurement => ({
      at: 0,
      imbalance: 1,
      islands: [
        { island: 1, draining: false, microshards: 4 },
        { island: 2, draining: true, microshards },
      ],
    });
    expect(decideAutoRebalance(m(3), INITIAL_AUTO_MEMORY, false, options).decision).toMatchObject({
      action: "drain",
      island: 2,
    });
    expect(decideAutoRebalance(m(0), INITIAL_AUTO_MEMORY, false, options).decision.action).toBe(
      "none",
    );
  });

  it("does nothing when an island could not be measured", () => {
    expect(run([measured(0, null), measured(1, null), measured(2, null)])).toEqual([
      "none",
      "none",
      "none",
    ]);
  });
});
