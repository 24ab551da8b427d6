import { expect, it } from "vitest";
import { ManagerMetrics, parseMeasurement } from "./manager-metrics.js";

function value(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

it("counts bytes copied from each move's progress, as increases only", async () => {
  const metrics = new ManagerMetrics();
  const progress = (jobId: number, copiedBytes: number) =>
    metrics.onMoveProgress({ jobId, step: "initial-copy", detail: "", copiedBytes });
  progress(1, 100);
  progress(1, 300);
  progress(1, 250); // a table finished: the sampled total fell back; nothing is subtracted
  progress(2, 50);
  const text = await metrics.registry.metrics();
  expect(value(text, "archipelago_move_copied_bytes_total")).toBe(350);
});

it("counts ended moves and jobs, observes write blocks, and drops a finished move's lag", async () => {
  const metrics = new ManagerMetrics();
  metrics.onMoveProgress({ jobId: 5, step: "catch-up", detail: "", lagBytes: 4096 });
  expect(
    value(await metrics.registry.metrics(), 'archipelago_move_replication_lag_bytes{job="5"}'),
  ).toBe(4096);
  expect(metrics.progress.get(5)?.step).toBe("catch-up");
  metrics.onEvent({
    type: "job-ended",
    jobId: 5,
    job: "move",
    outcome: "completed",
    detail: "",
    writeBlockMs: 40,
  });
  metrics.onEvent({ type: "job-ended", jobId: 6, job: "move", outcome: "failed", detail: "" });
  metrics.onEvent({
    type: "job-ended",
    jobId: 7,
    job: "allocate",
    outcome: "completed",
    detail: "",
  });
  metrics.onEvent({ type: "lead-taken", identity: "a" });
  metrics.onEvent({ type: "error", during: "tick", message: "x" });
  const text = await metrics.registry.metrics();
  expect(value(text, 'archipelago_moves_total{outcome="completed"}')).toBe(1);
  expect(value(text, 'archipelago_moves_total{outcome="failed"}')).toBe(1);
  expect(value(text, 'archipelago_jobs_ended_total{type="allocate",outcome="completed"}')).toBe(1);
  expect(value(text, "archipelago_move_write_block_seconds_count")).toBe(1);
  expect(value(text, 'archipelago_move_write_block_seconds_bucket{le="0.05"}')).toBe(1);
  expect(value(text, 'archipelago_move_write_block_seconds_bucket{le="0.025"}')).toBe(0);
  expect(value(text, 'archipelago_manager_leadership_changes_total{event="taken"}')).toBe(1);
  expect(value(text, "archipelago_manager_errors_total")).toBe(1);
  expect(text).not.toContain('archipelago_move_replication_lag_bytes{job="5"}');
  expect(metrics.progress.has(5)).toBe(false);
  // Without a catalog to read, the catalog gauges stay empty rather than made up.
  expect(text).not.toMatch(/^archipelago_jobs\{/m);
});

it("mirrors an embedded client's counters", async () => {
  const counters = { discoveries: 2, role_changes: 1, retries: 0 };
  const metrics = new ManagerMetrics().observeClient({ counters: () => counters });
  counters.discoveries = 5;
  const text = await metrics.registry.metrics();
  expect(value(text, "archipelago_client_discoveries_total")).toBe(5);
  expect(value(text, "archipelago_client_role_changes_total")).toBe(1);
  counters.discoveries = 6;
  expect(value(await metrics.registry.metrics(), "archipelago_client_discoveries_total")).toBe(6);
});

it("reads the leader's stored measurement defensively", () => {
  expect(
    parseMeasurement({ imbalance: 1.25, islands: [{ island: 1, bytes: 10 }, { island: 2 }, null] }),
  ).toEqual({ imbalance: 1.25, islandBytes: new Map([[1, 10]]) });
  expect(parseMeasurement(null)).toEqual({ imbalance: null, islandBytes: new Map() });
  expect(parseMeasurement({ imbalance: "high", islands: "none" }).imbalance).toBeNull();
});

it("exports process metrics only when asked", async () => {
  expect(await new ManagerMetrics().registry.metrics()).not.toContain(
    "process_cpu_user_seconds_total",
  );
  expect(await new ManagerMetrics({ processMetrics: true }).registry.metrics()).toContain(
    "process_cpu_user_seconds_total",
  );
});
