/**
 * The shard manager's Prometheus metrics (prom-client), on a registry of their own so an embedding
 * app's metrics are not mixed in unless it asks.
 *
 * Two sources, deliberately:
 *   - the control catalog, read at scrape time: jobs by type and state, the global switch, the
 *     leader's last measurement (imbalance, bytes per island). Every manager instance reads the same
 *     catalog, so any of them can be scraped and they agree;
 *   - this process's events (ManagerEvent, MoveProgress, the client's counters): moves ended here,
 *     bytes copied, write-block windows, replication lag of the moves this process runs, leadership.
 *     Counters, so they only ever describe this process (Prometheus sums them across instances).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { JobControl } from "../jobs/job-control.js";
import { JOB_STATES, JOB_TYPES } from "../jobs/job-store.js";
import type { ManagerEvent } from "../manager/manager-events.js";
import type { MoveProgress } from "../move/move-context.js";

/** Write-block windows in seconds: a good switch is tens of milliseconds, the hard cap seconds. */
export const WRITE_BLOCK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** How long one catalog read serves the scrape's collectors (they run together). */
const SNAPSHOT_MS = 500;

/** What the metrics read from the catalog and the manager; `isLeader` only when one runs here. */
export interface MetricsSource {
  readonly control: JobControl;
  readonly isLeader?: () => boolean;
}

/** The client library's running counters (`Cluster.events.counters()`), when a client is embedded. */
export interface ClientCounters {
  counters(): Readonly<Record<string, number>>;
}

interface Snapshot {
  readonly jobs: ReadonlyMap<string, number>;
  readonly globalRunning: boolean;
  readonly imbalance: number | null;
  readonly islandBytes: ReadonlyMap<number, number>;
}

export class ManagerMetrics {
  readonly registry = new Registry();
  /** The latest progress of each move this process runs (the ops page shows it). */
  readonly progress = new Map<number, MoveProgress>();
  readonly #copied = new Map<number, number>();
  readonly #moves: Counter<"outcome">;
  readonly #jobsEnded: Counter<"type" | "outcome">;
  readonly #bytesCopied: Counter;
  readonly #writeBlock: Histogram;
  readonly #lag: Gauge<"job">;
  readonly #leaderChanges: Counter<"event">;
  readonly #errors: Counter;
  #source: MetricsSource | undefined;
  #snapshot: { at: number; value: Promise<Snapshot> } | undefined;

  /**
   * @param options.processMetrics also export prom-client's process metrics (CPU, memory, event-loop
   *   lag, `process_*` and `nodejs_*`): on for `archipelago manager`, off by default for an embedding
   *   app, which likely exports its own.
   */
  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.#moves = new Counter({
      name: "archipelago_moves_total",
      help: "Moves this process ran that ended, by outcome (completed, failed, stopped, interrupted)",
      labelNames: ["outcome"],
      registers,
    });
    this.#jobsEnded = new Counter({
      name: "archipelago_jobs_ended_total",
      help: "Jobs this process ran that ended, by type and outcome",
      labelNames: ["type", "outcome"],
      registers,
    });
    this.#bytesCopied = new Counter({
      name: "archipelago_move_copied_bytes_total",
      help: "Bytes copied by the initial copies of the moves this process ran",
      registers,
    });
    this.#writeBlock = new Histogram({
      name: "archipelago_move_write_block_seconds",
      help: "Write-block window of each completed move (source tables locked until the switch)",
      buckets: WRITE_BLOCK_BUCKETS,
      registers,
    });
    this.#lag = new Gauge({
      name: "archipelago_move_replication_lag_bytes",
      help: "Logical replication lag of each move in catch-up that this process runs",
      labelNames: ["job"],
      registers,
    });
    this.#leaderChanges = new Counter({
      name: "archipelago_manager_leadership_changes_total",
      help: "Times this process took or lost the lead",
      labelNames: ["event"],
      registers,
    });
    this.#errors = new Counter({
      name: "archipelago_manager_errors_total",
      help: "Errors of the manager loop in this process (each is also printed)",
      registers,
    });
    const snapshot = () => this.#readSnapshot();
    const source = () => this.#source;
    new Gauge({
      name: "archipelago_jobs",
      help: "Jobs in the control catalog, by type and state",
      labelNames: ["type", "state"],
      registers,
      async collect() {
        if (!source()) return;
        const { jobs } = await snapshot();
        for (const type of JOB_TYPES) {
          for (const state of JOB_STATES)
            this.set({ type, state }, jobs.get(`${type}/${state}`) ?? 0);
        }
      },
    });
    new Gauge({
      name: "archipelago_global_running",
      help: "1 when the global switch is running, 0 when stopped",
      registers,
      async collect() {
        if (!source()) return;
        this.set((await snapshot()).globalRunning ? 1 : 0);
      },
    });
    new Gauge({
      name: "archipelago_imbalance_ratio",
      help: "The fullest island's load relative to its fair share (1 = even), as the leader last measured",
      registers,
      async collect() {
        if (!source()) return;
        const { imbalance } = await snapshot();
        if (imbalance === null) this.reset();
        else this.set(imbalance);
      },
    });
    new Gauge({
      name: "archipelago_island_active_bytes",
      help: "Bytes of the microshards active on each island, as the leader last measured",
      labelNames: ["island"],
      registers,
      async collect() {
        if (!source()) return;
        this.reset();
        for (const [island, bytes] of (await snapshot()).islandBytes) {
          this.set({ island: String(island) }, bytes);
        }
      },
    });
    new Gauge({
      name: "archipelago_manager_leader",
      help: "1 while this process leads, 0 while it stands by",
      registers,
      collect() {
        const isLeader = source()?.isLeader;
        if (isLeader) this.set(isLeader() ? 1 : 0);
      },
    });
  }

  /** Where catalog metrics are read from (set once the control handle exists). */
  bind(source: MetricsSource): this {
    this.#source = source;
    return this;
  }

  /** Counters of an embedded client (`cluster.events`): discoveries, role changes (failovers), retries. */
  observeClient(events: ClientCounters): this {
    const names = Object.keys(events.counters());
    for (const name of names) {
      if (!/^[a-z_]+$/.test(name)) continue;
      new Counter({
        name: `archipelago_client_${name}_total`,
        help: `The client library's ${name.replaceAll("_", " ")} counter`,
        registers: [this.registry],
        collect() {
          // The client keeps the running total; the counter mirrors it (it never goes down).
          this.reset();
          this.inc(events.counters()[name] ?? 0);
        },
      });
    }
    return this;
  }

  /** Pass as the Manager's `onEvent` (alongside any other listener). */
  readonly onEvent = (event: ManagerEvent): void => {
    switch (event.type) {
      case "job-ended":
        this.#jobsEnded.inc({ type: event.job, outcome: event.outcome });
        if (event.job === "move") {
          this.#moves.inc({ outcome: event.outcome });
          if (event.writeBlockMs !== undefined) this.#writeBlock.observe(event.writeBlockMs / 1000);
          this.#forget(event.jobId);
        }
        return;
      case "lead-taken":
        this.#leaderChanges.inc({ event: "taken" });
        return;
      case "lead-lost":
        this.#leaderChanges.inc({ event: "lost" });
        return;
      case "error":
        this.#errors.inc();
        return;
      default:
        return;
    }
  };

  /** Pass as the Manager's `onMoveProgress`. */
  readonly onMoveProgress = (progress: MoveProgress): void => {
    this.progress.set(progress.jobId, progress);
    if (progress.copiedBytes !== undefined) {
      // The mover reports a move's bytes copied so far; the counter takes the increase.
      const before = this.#copied.get(progress.jobId) ?? 0;
      if (progress.copiedBytes > before) this.#bytesCopied.inc(progress.copiedBytes - before);
      this.#copied.set(progress.jobId, Math.max(before, progress.copiedBytes));
    }
    if (progress.lagBytes !== undefined) {
      this.#lag.set({ job: String(progress.jobId) }, progress.lagBytes);
    }
  };

  #forget(jobId: number): void {
    this.progress.delete(jobId);
    this.#copied.delete(jobId);
    this.#lag.remove({ job: String(jobId) });
  }

  #readSnapshot(): Promise<Snapshot> {
    const now = Date.now();
    if (this.#snapshot && now - this.#snapshot.at < SNAPSHOT_MS) return this.#snapshot.value;
    const control = this.#source?.control as JobControl;
    const value = (async (): Promise<Snapshot> => {
      const store = await control.store();
      const [jobs, global] = await Promise.all([store.all(), store.managerState()]);
      const counts = new Map<string, number>();
      for (const job of jobs) {
        const key = `${job.type}/${job.state}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const measurement = parseMeasurement(global.measurement);
      return { jobs: counts, globalRunning: global.state === "running", ...measurement };
    })();
    this.#snapshot = { at: now, value };
    value.catch(() => {
      this.#snapshot = undefined;
    });
    return value;
  }
}

/** The leader's stored measurement (manager.ts `#measure`), read defensively: it is JSON in a row. */
export function parseMeasurement(
  measurement: Record<string, unknown> | null,
): Pick<Snapshot, "imbalance" | "islandBytes"> {
  const imbalance =
    typeof measurement?.imbalance === "number" && Number.isFinite(measurement.imbalance)
      ? measurement.imbalance
      : null;
  const islandBytes = new Map<number, number>();
  const islands = Array.isArray(measurement?.islands) ? measurement.islands : [];
  for (const entry of islands as unknown[]) {
    const { island, bytes } = (entry ?? {}) as { island?: unknown; bytes?: unknown };
    if (typeof island === "number" && typeof bytes === "number") islandBytes.set(island, bytes);
  }
  return { imbalance, islandBytes };
}
