/**
 * What an operator's or the global switch's command does to a job, as a table.
 *
 * The semantics follow CouchDB's `/_reshard`: a job stopped by an operator stays stopped across a
 * global stop and start; a job stopped by the global switch starts again with it; failed jobs stay
 * failed until resumed; completed jobs ignore every command. A resumed job waits (`stopped` by the
 * global switch) when the switch is off.
 *
 * Pure: the store applies the outcome under a row lock.
 */
import type { JobState } from "./job-store.js";

export type StoppedBy = "operator" | "global";
export type JobCommand = "stop" | "resume" | "global-stop" | "global-start";

export interface JobStatus {
  readonly state: JobState;
  /** Set exactly when the state is `stopped`. */
  readonly stoppedBy: StoppedBy | null;
}

/** `null`: the command does not apply to a job in this state (the job is left as it is). */
export type Transition = JobStatus | null;

const WAITING: JobStatus = { state: "new", stoppedBy: null };
const STOPPED_BY_OPERATOR: JobStatus = { state: "stopped", stoppedBy: "operator" };
const STOPPED_BY_GLOBAL: JobStatus = { state: "stopped", stoppedBy: "global" };

type Row = Readonly<Record<JobCommand, Transition>>;

/** Rows: the job's state (a stopped job by who stopped it). Columns: the command. */
export const JOB_TRANSITIONS: Readonly<Record<JobState | "stopped-by-global", Row>> = {
  new: {
    stop: STOPPED_BY_OPERATOR,
    resume: null,
    "global-stop": STOPPED_BY_GLOBAL,
    "global-start": null,
  },
  running: {
    stop: STOPPED_BY_OPERATOR,
    resume: null,
    "global-stop": STOPPED_BY_GLOBAL,
    "global-start": null,
  },
  stopped: {
    stop: null,
    resume: WAITING,
    "global-stop": null,
    "global-start": null,
  },
  "stopped-by-global": {
    // Taken over by the operator: it no longer follows the global switch.
    stop: STOPPED_BY_OPERATOR,
    resume: WAITING,
    "global-stop": null,
    "global-start": WAITING,
  },
  failed: {
    stop: null,
    resume: WAITING,
    "global-stop": null,
    "global-start": null,
  },
  completed: {
    stop: null,
    resume: null,
    "global-stop": null,
    "global-start": null,
  },
};

/**
 * The job's status after `command`, or null when it does not apply. `globalRunning` is the global
 * switch as it will be after the command: a job resumed while the switch is off waits for it.
 */
export function jobTransition(
  job: JobStatus,
  command: JobCommand,
  globalRunning: boolean,
): Transition {
  const row =
    job.state === "stopped" && job.stoppedBy === "global"
      ? JOB_TRANSITIONS["stopped-by-global"]
      : JOB_TRANSITIONS[job.state];
  const next = row[command];
  if (next === WAITING && !globalRunning) return STOPPED_BY_GLOBAL;
  return next;
}

/** The status a job is created in: jobs created while the switch is off wait for it. */
export function initialStatus(globalRunning: boolean): JobStatus {
  return globalRunning ? WAITING : STOPPED_BY_GLOBAL;
}
