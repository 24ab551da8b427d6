/**
 * SQLSTATEs raised by the catalog's own functions and triggers. Class `AR` is unused by PostgreSQL, so
 * a client can classify these by code, never by message text.
 */
export const CATALOG_SQLSTATES = Object.freeze({
  /** A catalog row change that the microshard state machine does not allow. */
  illegalTransition: "AR001",
  /** A microshard's schema or row exists in a state that forbids the operation (e.g. allocating it). */
  microshardConflict: "AR002",
});

export type CatalogSqlstate = (typeof CATALOG_SQLSTATES)[keyof typeof CATALOG_SQLSTATES];
