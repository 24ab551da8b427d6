/**
 * Shows a rebalance or drain on stderr while it runs: one progress bar per move on a terminal (its
 * steps, then done/failed), one JSON line per change otherwise. It reads the jobs from the control
 * catalog, so it shows the same thing whether this process or another manager runs the moves.
 */
import { microshardSchema } from "@archipelago/topology";
import cliProgress from "cli-progress";
import type { JobRecord, JobStore } from "../jobs/job-store.js";
import { MOVE_STEPS, type MoveStep } from "../move/move-steps.js";

const POLL_MS = 500;
const STEPS = MOVE_STEPS.filter((s) => s !== "completed");

export interface ParentJobReporter {
  /** Reads the jobs once more, shows the final state, and stops. */
  stop(): Promise<void>;
}

export function watchParentJob(
  store: JobStore,
  parentId: number,
  stream: NodeJS.WriteStream,
  options: { enabled: boolean },
): ParentJobReporter {
  if (!options.enabled) return { stop: async () => {} };
  const view = stream.isTTY ? barView(stream) : lineView(stream);
  let stopped = false;
  const poll = async () => {
    const children = await store.children(parentId).catch(() => undefined);
    if (children) view.show(children);
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await poll();
      view.end();
    },
  };
}

interface View {
  show(children: readonly JobRecord[]): void;
  end(): void;
}

function label(job: JobRecord): string {
  return `${microshardSchema(job.microshard ?? 0)} ${job.sourceIsland} → ${job.targetIsland}`;
}

function position(job: JobRecord): number {
  if (job.state === "completed") return STEPS.length;
  return Math.max(0, STEPS.indexOf(job.step as (typeof STEPS)[number]));
}

function status(job: JobRecord): string {
  if (job.state === "completed") {
    return `done, write block ${job.writeBlockMs === null ? "?" : Math.round(job.writeBlockMs)} ms`;
  }
  if (job.state === "running") return job.step as MoveStep;
  return job.state === "new" ? "waiting" : `${job.state}: ${job.stateReason ?? ""}`.slice(0, 60);
}

function barView(stream: NodeJS.WriteStream): View {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: "{label} {bar} {status}",
      hideCursor: true,
      barsize: 24,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  return {
    show(children) {
      for (const job of children) {
        const payload = { label: label(job), status: status(job) };
        const bar = bars.get(job.id);
        if (bar) bar.update(position(job), payload);
        else bars.set(job.id, multibar.create(STEPS.length, position(job), payload));
      }
    },
    end: () => multibar.stop(),
  };
}

function lineView(stream: NodeJS.WriteStream): View {
  const seen = new Map<number, string>();
  return {
    show(children) {
      for (const job of children) {
        const key = `${job.state}/${job.step}`;
        if (seen.get(job.id) === key) continue;
        seen.set(job.id, key);
        stream.write(
          `${JSON.stringify({
            at: new Date().toISOString(),
            event: "move.state",
            jobId: job.id,
            microshard: job.microshard,
            source: job.sourceIsland,
            target: job.targetIsland,
            state: job.state,
            step: job.step,
            ...(job.writeBlockMs === null ? {} : { writeBlockMs: job.writeBlockMs }),
          })}\n`,
        );
      }
    },
    end: () => {},
  };
}
