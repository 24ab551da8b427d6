import { describe, expect, it } from "vitest";
import { ADVISORY_LOCK_NAMESPACE, ADVISORY_LOCKS } from "../advisory-locks.js";
import { MAX_SEQUENCE } from "../id.js";
import { MICROSHARD_STATES, MICROSHARD_TRANSITIONS } from "../microshard-state.js";
import { catalogUpgradeSteps, transitionsMatch } from "./catalog-install.js";
import { CATALOG_SQLSTATES } from "./catalog-sqlstates.js";
import { CATALOG_VERSIONS, LATEST_CATALOG_VERSION } from "./catalog-versions.js";

// Released catalog SQL spells its constants as literals; these tests fail when a TypeScript constant
// changes without a new catalog version that carries the change to installed catalogs.
describe("catalog SQL literals match the TypeScript model", () => {
  const v1 = CATALOG_VERSIONS[0]?.sql ?? "";
  const v2 = CATALOG_VERSIONS[1]?.sql ?? "";

  it("lists exactly the microshard states", () => {
    const list = MICROSHARD_STATES.map((s) => `'${s}'`).join(", ");
    expect(v1).toContain(`state IN (${list})`);
    expect(v2).toContain(`state IN (${list})`);
  });

  it("uses the advisory lock keys and the sequence bound", () => {
    expect(v1).toContain(
      `pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${ADVISORY_LOCKS.microshardAllocationBase} + p_microshard)`,
    );
    expect(v1).toContain(`MAXVALUE ${MAX_SEQUENCE} NO CYCLE`);
  });

  it("raises the catalog SQLSTATEs", () => {
    expect(v1).toContain(`ERRCODE = '${CATALOG_SQLSTATES.illegalTransition}'`);
    expect(v1).toContain(`ERRCODE = '${CATALOG_SQLSTATES.microshardConflict}'`);
  });
});

describe("catalogUpgradeSteps", () => {
  it("applies the versions after the current one, in order", () => {
    expect(catalogUpgradeSteps(0).map((v) => v.version)).toEqual(
      CATALOG_VERSIONS.map((v) => v.version),
    );
    expect(catalogUpgradeSteps(1).map((v) => v.version)).toEqual([2, 3, 4]);
    expect(catalogUpgradeSteps(LATEST_CATALOG_VERSION)).toEqual([]);
    expect(catalogUpgradeSteps(0, 1).map((v) => v.version)).toEqual([1]);
  });

  it("refuses unknown targets and catalogs newer than the code", () => {
    expect(() => catalogUpgradeSteps(0, LATEST_CATALOG_VERSION + 1)).toThrow(RangeError);
    expect(() => catalogUpgradeSteps(LATEST_CATALOG_VERSION + 1)).toThrow(/newer than this code/);
  });
});

describe("transitionsMatch", () => {
  const rows = MICROSHARD_TRANSITIONS.map((e) => ({
    from_state: e.from,
    to_state: e.to,
    generation_delta: e.generationDelta,
  }));
  it("accepts the code's edges in any order and rejects any difference", () => {
    expect(transitionsMatch([...rows].reverse())).toBe(true);
    expect(transitionsMatch(rows.slice(1))).toBe(false);
    expect(
      transitionsMatch([...rows, { from_state: "sent", to_state: "active", generation_delta: 0 }]),
    ).toBe(false);
    expect(
      transitionsMatch(rows.map((r, i) => (i === 0 ? { ...r, generation_delta: 5 } : r))),
    ).toBe(false);
  });
});
