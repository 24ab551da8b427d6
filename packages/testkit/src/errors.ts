/**
 * The testkit's error catalogue.
 *
 * Each error has a stable `code` and typed fields so that tests and the CLI branch on the code, never on
 * the message. Messages say what to do next; none of them carries a password.
 */
import { ArchipelagoError } from "@archipelago/topology";

/** A folder holds no cluster (no manifest): nothing to open, stop or show. */
export class NoClusterError extends ArchipelagoError {
  readonly code = "NO_CLUSTER";
  override readonly name = "NoClusterError";
  constructor(
    readonly dir: string,
    readonly missing: string,
  ) {
    super(`no cluster in ${dir} (${missing} is missing); run archipelago-local up`);
  }
  protected override details() {
    return { dir: this.dir, missing: this.missing };
  }
}

/**
 * A persistent cluster is only created in an absent or empty folder: a failed start removes the folder,
 * which must never take a user's files along.
 */
export class ClusterDirNotEmptyError extends ArchipelagoError {
  readonly code = "CLUSTER_DIR_NOT_EMPTY";
  override readonly name = "ClusterDirNotEmptyError";
  constructor(
    readonly dir: string,
    readonly hasCluster: boolean,
  ) {
    super(
      hasCluster
        ? `a cluster already exists in ${dir}; run archipelago-local status, or down to remove it`
        : `${dir} is not empty; a cluster needs an absent or empty folder`,
    );
  }
  protected override details() {
    return { dir: this.dir, hasCluster: this.hasCluster };
  }
}

/** The OS user that runs the servers cannot write the cluster folder (usually a parent is 0700). */
export class ClusterDirNotAccessibleError extends ArchipelagoError {
  readonly code = "CLUSTER_DIR_NOT_ACCESSIBLE";
  override readonly name = "ClusterDirNotAccessibleError";
  constructor(
    readonly dir: string,
    readonly uid: number,
  ) {
    super(
      `the server user (uid ${uid}) cannot write ${dir}: a parent folder is not traversable by it. ` +
        "Pick a folder every user can reach (e.g. under /tmp or the project folder).",
    );
  }
  protected override details() {
    return { dir: this.dir, uid: this.uid };
  }
}

/** An island or node number that the cluster does not have. */
export class NoSuchNodeError extends ArchipelagoError {
  readonly code = "NO_SUCH_NODE";
  override readonly name = "NoSuchNodeError";
  constructor(
    readonly island: number,
    readonly index: number | undefined,
    readonly reason: string,
  ) {
    super(
      index === undefined
        ? `island ${island}: ${reason}`
        : `island ${island} node ${index}: ${reason}`,
    );
  }
  protected override details() {
    return { island: this.island, index: this.index, reason: this.reason };
  }
}

/** A backend cannot do what was asked (e.g. a persistent folder with containers). */
export class UnsupportedOperationError extends ArchipelagoError {
  readonly code = "UNSUPPORTED_OPERATION";
  override readonly name = "UnsupportedOperationError";
  constructor(
    readonly backend: string,
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`the ${backend} backend cannot ${operation}: ${reason}`);
  }
  protected override details() {
    return { backend: this.backend, operation: this.operation, reason: this.reason };
  }
}

/** `ARCHIPELAGO_TESTKIT_BACKEND` (or the `backend` option) names no known backend. */
export class InvalidBackendError extends ArchipelagoError {
  readonly code = "INVALID_TESTKIT_BACKEND";
  override readonly name = "InvalidBackendError";
  constructor(
    readonly value: string,
    readonly allowed: readonly string[],
  ) {
    super(
      `unknown testkit backend ${JSON.stringify(value)}; ARCHIPELAGO_TESTKIT_BACKEND must be one of ${allowed.join(", ")}`,
    );
  }
  protected override details() {
    return { value: this.value, allowed: this.allowed };
  }
}

/** The container backend was asked for, but no Docker (or compatible) engine answers. */
export class DockerUnavailableError extends ArchipelagoError {
  readonly code = "DOCKER_UNAVAILABLE";
  override readonly name = "DockerUnavailableError";
  constructor(readonly reason: string) {
    super(
      `no container engine answered (${reason}); start Docker, set DOCKER_HOST, or use ARCHIPELAGO_TESTKIT_BACKEND=local`,
    );
  }
  protected override details() {
    return { reason: this.reason };
  }
}

/** A condition the testkit waits for (replay, promotion, start-up) did not happen in time. */
export class WaitTimeoutError extends ArchipelagoError {
  readonly code = "WAIT_TIMEOUT";
  override readonly name = "WaitTimeoutError";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
  protected override details() {
    return { what: this.what, timeoutMs: this.timeoutMs };
  }
}
