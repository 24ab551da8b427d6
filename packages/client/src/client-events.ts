/**
 * What the client tells the outside world: one event per physical query, per discovery round, per role
 * change and per retry, plus running counters that a metrics exporter can read. Events carry routing
 * facts only (islands, nodes, microshards, timings, error classes), never SQL parameters or passwords.
 */
import { EventEmitter } from "node:events";
import type { NodeRole } from "./node-handle.js";

/** Why a statement went where it went. */
export type RouteReason =
  | "write"
  | "master-mode"
  | "replica-ok"
  | "replica-caught-up"
  | "master-replica-lagging"
  | "master-no-replica"
  | "transaction";

export interface QueryEvent {
  readonly island: number;
  readonly node: string;
  readonly role: NodeRole;
  readonly reason: RouteReason;
  readonly microshards: readonly number[];
  /** Logical requests served by this statement (1 unless batched). */
  readonly batchSize: number;
  readonly attempt: number;
  readonly durationMs: number;
  /** The error class when the statement failed (see error-policy.ts). */
  readonly error: string | undefined;
}

export interface DiscoveryEvent {
  readonly durationMs: number;
  readonly microshards: number;
  readonly changed: boolean;
  readonly unreachable: readonly number[];
  readonly conflicts: readonly { microshard: number; islands: readonly number[] }[];
}

export interface RoleChangeEvent {
  readonly island: number;
  readonly node: string;
  readonly from: NodeRole;
  readonly to: NodeRole;
}

export interface RetryEvent {
  readonly attempt: number;
  readonly kind: string;
  readonly delayMs: number;
  readonly microshards: readonly number[];
}

export interface ClientEventMap {
  query: [QueryEvent];
  discovery: [DiscoveryEvent];
  "role-change": [RoleChangeEvent];
  retry: [RetryEvent];
  /** A microshard was active on two islands; the previous placement was kept. Loud by design. */
  conflict: [{ microshard: number; islands: readonly number[] }];
  /** A listener of another event threw; the query itself was not affected. */
  "listener-error": [unknown];
}

export const COUNTERS = [
  "queries",
  "query_errors",
  "retries",
  "discoveries",
  "role_changes",
  "conflicts",
  "listener_errors",
] as const;
export type Counter = (typeof COUNTERS)[number];

export class ClientEvents extends EventEmitter<ClientEventMap> {
  readonly #counters = new Map<Counter, number>(COUNTERS.map((c) => [c, 0]));

  /**
   * Emits to listeners, isolating the caller from them: a listener that throws must not turn a
   * successful query into a failure (or a retry). Its error is reported on `listener-error`.
   */
  safeEmit<K extends keyof ClientEventMap>(event: K, ...args: ClientEventMap[K]): void {
    try {
      (this.emit as (e: K, ...a: ClientEventMap[K]) => boolean)(event, ...args);
    } catch (error) {
      this.count("listener_errors");
      if (this.listenerCount("listener-error") > 0) this.emit("listener-error", error);
    }
  }

  count(counter: Counter, by = 1): void {
    this.#counters.set(counter, (this.#counters.get(counter) ?? 0) + by);
  }

  /** A snapshot of every counter. */
  counters(): Record<Counter, number> {
    return Object.fromEntries(this.#counters) as Record<Counter, number>;
  }
}
