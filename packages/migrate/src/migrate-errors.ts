import { ArchipelagoError } from "@archipelago/topology";

/** No node of an island answered as a writable master. */
export class NoMasterError extends ArchipelagoError {
  readonly code = "NO_MASTER";
  override readonly name = "NoMasterError";
  constructor(
    readonly island: number,
    readonly reasons: readonly string[],
  ) {
    super(
      `Island ${island} has no reachable master (${reasons.join("; ")}). Check that its master is ` +
        "running and that the config lists it.",
    );
  }
  protected override details() {
    return { island: this.island, reasons: this.reasons };
  }
}

/** The database behind an island's master already belongs to another island number. */
export class WrongIslandError extends ArchipelagoError {
  readonly code = "WRONG_ISLAND";
  override readonly name = "WrongIslandError";
  constructor(
    readonly island: number,
    readonly recordedIsland: number,
  ) {
    super(
      `The config says this is island ${island}, but its catalog says island ${recordedIsland}. Two ` +
        "config entries may point at the same database; fix the config.",
    );
  }
  protected override details() {
    return { island: this.island, recordedIsland: this.recordedIsland };
  }
}

/** The config's ID environment digit differs from the one the island's catalog was created with. */
export class IdEnvironmentMismatchError extends ArchipelagoError {
  readonly code = "ID_ENVIRONMENT_MISMATCH";
  override readonly name = "IdEnvironmentMismatchError";
  constructor(
    readonly island: number,
    readonly configured: number,
    readonly recorded: number,
  ) {
    super(
      `The config sets idEnvironment ${configured}, but island ${island}'s catalog was created with ` +
        `${recorded}. Set idEnvironment to ${recorded} (IDs already issued carry that digit).`,
    );
  }
  protected override details() {
    return { island: this.island, configured: this.configured, recorded: this.recorded };
  }
}

/** The catalog on an island is newer than this code understands. */
export class CatalogTooNewError extends ArchipelagoError {
  readonly code = "CATALOG_TOO_NEW";
  override readonly name = "CatalogTooNewError";
  constructor(
    readonly island: number,
    readonly version: number,
    readonly supported: number,
  ) {
    super(
      `Island ${island} has catalog version ${version}; this code supports up to ${supported}. ` +
        "Upgrade Archipelago before running it against this cluster.",
    );
  }
  protected override details() {
    return { island: this.island, version: this.version, supported: this.supported };
  }
}

/** A migrations folder holds a file that cannot be used; nothing was applied. */
export class InvalidMigrationError extends ArchipelagoError {
  readonly code = "INVALID_MIGRATION";
  override readonly name = "InvalidMigrationError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`Migration ${file}: ${reason}`);
  }
  protected override details() {
    return { file: this.file, reason: this.reason };
  }
}

/** One schema's failure in a migration run. */
export interface MigrationFailure {
  readonly island: number;
  readonly schema: string;
  readonly version: string;
  readonly file: string;
  /** The SQLSTATE when PostgreSQL rejected the statement. */
  readonly sqlstate: string | undefined;
  readonly message: string;
}

/** Some schemas failed; every other schema was migrated, each failed one is left at its last version. */
export class MigrationsFailedError extends ArchipelagoError {
  readonly code = "MIGRATIONS_FAILED";
  override readonly name = "MigrationsFailedError";
  constructor(readonly failures: readonly MigrationFailure[]) {
    super(
      `${failures.length} schema(s) failed to migrate: ${failures
        .slice(0, 5)
        .map((f) => `island ${f.island} ${f.schema} at ${f.file}: ${f.message}`)
        .join("; ")}${failures.length > 5 ? "; …" : ""}. Fix the cause in each ` +
        "failed schema (or the file, if the version failed everywhere) and run again; schemas " +
        "already migrated are skipped.",
    );
  }
  protected override details() {
    return { failures: this.failures };
  }
}

/**
 * Microshard allocation was refused (bad request, busy lock). A refusal while planning creates nothing;
 * microshards created before a later failure stay, each complete (created and migrated atomically).
 */
export class AllocationError extends ArchipelagoError {
  readonly code = "ALLOCATION_REFUSED";
  override readonly name = "AllocationError";
  constructor(readonly reason: string) {
    super(`Cannot allocate microshards: ${reason}`);
  }
  protected override details() {
    return { reason: this.reason };
  }
}
