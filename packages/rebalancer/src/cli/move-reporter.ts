/**
 * Shows a running move on stderr: a progress bar over its steps on a terminal (with the copy's tables,
 * rows and bytes, then the replication lag), one JSON line per step and per progress change otherwise
 * (CI logs, files), so that a long move is never silent and stdout keeps only the result.
 */
import cliProgress from "cli-progress";
import type { JobRecord } from "../jobs/job-store.js";
import type { MoveProgress } from "../move/move-context.js";
import { MOVE_STEPS, type MoveStep } from "../move/move-steps.js";
import { formatBytes } from "./text-format.js";

export interface MoveReporter {
  /** The mover is about to run `step` (its checkpoint is written). */
  readonly onStep: (step: MoveStep, job: JobRecord) => void;
  readonly onProgress: (event: MoveProgress) => void;
  /** Stops the bar; `completed` fills it. Call once, whatever the outcome. */
  readonly stop: (completed: boolean) => void;
}

/** Steps shown as bar positions: every step but the final `completed`. */
const STEPS = MOVE_STEPS.filter((s) => s !== "completed");

/** A progress line is repeated at most this often while nothing but counters change. */
const LINE_INTERVAL_MS = 1_000;

export function moveReporter(
  stream: NodeJS.WriteStream,
  options: { enabled: boolean; label: string },
): MoveReporter {
  if (!options.enabled) return { onStep: () => {}, onProgress: () => {}, stop: () => {} };
  return stream.isTTY ? barReporter(stream, options.label) : lineReporter(stream);
}

function barReporter(stream: NodeJS.WriteStream, label: string): MoveReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {value}/{total} {step} {detail}`,
      hideCursor: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  // The copy's counters come from pg_stat_progress_copy, which empties as each table finishes: show
  // the highest seen so that the numbers never run backwards.
  let copied = { rows: 0, bytes: 0 };
  const show = (step: MoveStep, detail: string) => {
    const position = Math.max(0, STEPS.indexOf(step as (typeof STEPS)[number]));
    if (!started) {
      bar.start(STEPS.length, position, { step, detail });
      started = true;
    } else bar.update(position, { step, detail });
  };
  return {
    onStep: (step) => show(step, ""),
    onProgress: (event) => {
      copied = {
        rows: Math.max(copied.rows, event.copiedRows ?? 0),
        bytes: Math.max(copied.bytes, event.copiedBytes ?? 0),
      };
      show(
        event.step,
        progressDetail({ ...event, copiedRows: copied.rows, copiedBytes: copied.bytes }),
      );
    },
    stop: (completed) => {
      if (started && completed) bar.update(STEPS.length, { step: "completed", detail: "" });
      if (started) bar.stop();
    },
  };
}

function lineReporter(stream: NodeJS.WriteStream): MoveReporter {
  let last = { key: "", at: 0 };
  const write = (line: Record<string, unknown>) =>
    stream.write(`${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
  return {
    onStep: (step, job) => {
      last = { key: "", at: 0 };
      write({ event: "move.step", jobId: job.id, step });
    },
    onProgress: (event) => {
      // Counters change on every poll; a line per change of step or tables, else once a second.
      const key = `${event.step}/${event.tablesReady ?? ""}`;
      const now = Date.now();
      if (key === last.key && now - last.at < LINE_INTERVAL_MS) return;
      last = { key, at: now };
      write({ event: "move.progress", ...event });
    },
    stop: () => {},
  };
}

function progressDetail(event: MoveProgress): string {
  if (event.tablesTotal !== undefined) {
    return `| tables ${event.tablesReady ?? 0}/${event.tablesTotal}, ${event.copiedRows ?? 0} rows, ${formatBytes(event.copiedBytes ?? 0)}`;
  }
  if (event.lagBytes !== undefined) return `| lag ${formatBytes(event.lagBytes)}`;
  return `| ${event.detail}`;
}
