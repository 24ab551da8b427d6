import { describe, expect, it } from "vitest";
import { initialStatus, type JobStatus, jobTransition } from "./job-transitions.js";

const NEW: JobStatus = { state: "new", stoppedBy: null };
const RUNNING: JobStatus = { state: "running", stoppedBy: null };
const BY_OPERATOR: JobStatus = { state: "stopped", stoppedBy: "operator" };
const BY_GLOBAL: JobStatus = { state: "stopped", stoppedBy: "global" };
const FAILED: JobStatus = { state: "failed", stoppedBy: null };
const COMPLETED: JobStatus = { state: "completed", stoppedBy: null };

describe("jobTransition", () => {
  it("a job stopped by an operator stays stopped across a global stop and start", () => {
    let job: JobStatus = jobTransition(RUNNING, "stop", true) ?? RUNNING;
    expect(job).toEqual(BY_OPERATOR);
    expect(jobTransition(job, "global-stop", false)).toBeNull();
    expect(jobTransition(job, "global-start", true)).toBeNull();
    job = jobTransition(job, "resume", true) ?? job;
    expect(job).toEqual(NEW);
  });

  it("a job stopped by the global switch starts again with it", () => {
    expect(jobTransition(RUNNING, "global-stop", false)).toEqual(BY_GLOBAL);
    expect(jobTransition(NEW, "global-stop", false)).toEqual(BY_GLOBAL);
    expect(jobTransition(BY_GLOBAL, "global-start", true)).toEqual(NEW);
  });

  it("an operator's stop takes a globally stopped job out of the switch's hands", () => {
    const job = jobTransition(BY_GLOBAL, "stop", false);
    expect(job).toEqual(BY_OPERATOR);
    expect(jobTransition(job as JobStatus, "global-start", true)).toBeNull();
  });

  it("failed jobs stay failed until resumed", () => {
    expect(jobTransition(FAILED, "global-stop", false)).toBeNull();
    expect(jobTransition(FAILED, "global-start", true)).toBeNull();
    expect(jobTransition(FAILED, "stop", true)).toBeNull();
    expect(jobTransition(FAILED, "resume", true)).toEqual(NEW);
  });

  it("completed jobs ignore every command", () => {
    for (const command of ["stop", "resume", "global-stop", "global-start"] as const) {
      expect(jobTransition(COMPLETED, command, true)).toBeNull();
      expect(jobTransition(COMPLETED, command, false)).toBeNull();
    }
  });

  it("a job resumed while the switch is off waits for it", () => {
    expect(jobTransition(BY_OPERATOR, "resume", false)).toEqual(BY_GLOBAL);
    expect(jobTransition(FAILED, "resume", false)).toEqual(BY_GLOBAL);
  });

  it("new and running jobs ignore resume", () => {
    expect(jobTransition(NEW, "resume", true)).toBeNull();
    expect(jobTransition(RUNNING, "resume", true)).toBeNull();
  });

  it("jobs created while the switch is off wait", () => {
    expect(initialStatus(true)).toEqual(NEW);
    expect(initialStatus(false)).toEqual(BY_GLOBAL);
  });
});
