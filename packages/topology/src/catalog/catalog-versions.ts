/**
 * The catalog's DDL, as an ordered list of versions.
 *
 * Every island master carries the schema `archipelago`: which island it is, the authoritative state of
 * each microshard it holds, and a copy of the whole cluster map. Physical replication carries it to the
 * island's replicas, so any node can answer "what do you hold". The installer applies the versions newer
 * than the one recorded, in one transaction under an advisory lock; a version is never edited once
 * released, a change is a new version. That is why the SQL spells its constants (states, lock keys,
 * SQLSTATEs, the sequence bound) as literals instead of interpolating the TypeScript ones: a released
 * version must not change under an installed catalog; `catalog-versions.test.ts` checks that the
 * literals still match the TypeScript constants. Object names in microshard schemas start with
 * `archipelago_` so that they cannot collide with application tables.
 */

export const CATALOG_SCHEMA = "archipelago";

export interface CatalogVersion {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const v1 = `
CREATE TABLE archipelago.island_identity (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  island integer NOT NULL CHECK (island >= 1),
  id_environment smallint NOT NULL CHECK (id_environment BETWEEN 1 AND 8),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The authoritative state of each microshard copy on this island. Changes are checked against the
-- state machine by the trigger below, whose edges the installer copies from microshard-state.ts.
CREATE TABLE archipelago.microshards (
  microshard integer PRIMARY KEY CHECK (microshard BETWEEN 0 AND 9999),
  state text NOT NULL CHECK (state IN ('active', 'receiving', 'sent', 'garbage')),
  generation integer NOT NULL CHECK (generation >= 1),
  weight_factor real NOT NULL DEFAULT 1 CHECK (weight_factor > 0),
  -- The schema that holds the copy now: sh0042, or its renamed name once sent.
  schema_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE archipelago.microshard_transitions (
  from_state text NOT NULL,
  to_state text NOT NULL,
  generation_delta integer NOT NULL,
  PRIMARY KEY (from_state, to_state)
);

CREATE FUNCTION archipelago.check_microshard_transition() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  v_from text := CASE WHEN TG_OP = 'INSERT' THEN 'absent' ELSE OLD.state END;
  v_to text := CASE WHEN TG_OP = 'DELETE' THEN 'absent' ELSE NEW.state END;
  v_delta integer;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.microshard <> OLD.microshard THEN
    RAISE EXCEPTION 'microshard %: a catalog row is never renumbered', OLD.microshard
      USING ERRCODE = 'AR001';
  END IF;
  IF TG_OP = 'UPDATE' AND v_from = v_to THEN
    IF NEW.generation <> OLD.generation THEN
      RAISE EXCEPTION 'microshard %: the generation changes only with a state transition', OLD.microshard
        USING ERRCODE = 'AR001';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  SELECT generation_delta INTO v_delta
    FROM archipelago.microshard_transitions WHERE from_state = v_from AND to_state = v_to;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'microshard %: illegal state change % -> %', coalesce(NEW.microshard, OLD.microshard), v_from, v_to
      USING ERRCODE = 'AR001';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- A new microshard starts at generation 1; a receiving copy records the source's generation.
    IF v_to = 'active' AND NEW.generation <> 1 THEN
      RAISE EXCEPTION 'microshard %: a new microshard starts at generation 1', NEW.microshard
        USING ERRCODE = 'AR001';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.generation <> OLD.generation + v_delta THEN
    RAISE EXCEPTION 'microshard %: % -> % must set generation % (got %)',
      NEW.microshard, v_from, v_to, OLD.generation + v_delta, NEW.generation
      USING ERRCODE = 'AR001';
  END IF;
  NEW.state_changed_at := now();
  NEW.updated_at := now();
  RETURN NEW;
END
$fn$;

CREATE TRIGGER check_microshard_transition
  BEFORE INSERT OR UPDATE OR DELETE ON archipelago.microshards
  FOR EACH ROW EXECUTE FUNCTION archipelago.check_microshard_transition();

-- Creates microshard p_microshard on this island: its schema, its ID generator, its migrations table
-- and its catalog row, in the caller's transaction. Idempotent: an active microshard is left alone.
-- Choosing a number that is free on every island is the cluster allocator's job (under its own lock).
CREATE FUNCTION archipelago.allocate_microshard(p_microshard integer, p_weight_factor real DEFAULT 1)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_schema text;
  v_state text;
  v_environment smallint;
  v_base bigint;
BEGIN
  IF p_microshard IS NULL OR p_microshard NOT BETWEEN 0 AND 9999 THEN
    RAISE EXCEPTION 'microshard number must be 0..9999, got %', p_microshard USING ERRCODE = '22023';
  END IF;
  v_schema := 'sh' || lpad(p_microshard::text, 4, '0');
  PERFORM pg_advisory_xact_lock(1095910216, 10000 + p_microshard);
  SELECT state INTO v_state FROM archipelago.microshards WHERE microshard = p_microshard;
  IF FOUND THEN
    IF v_state = 'active' THEN
      RETURN 'exists';
    END IF;
    RAISE EXCEPTION 'microshard % is % on this island; it cannot be allocated', p_microshard, v_state
      USING ERRCODE = 'AR002';
  END IF;
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = v_schema) THEN
    RAISE EXCEPTION 'schema % exists but the catalog has no row for it; drop or rename it first', v_schema
      USING ERRCODE = 'AR002';
  END IF;
  SELECT id_environment INTO STRICT v_environment FROM archipelago.island_identity;
  -- ID = environment digit, 4-digit microshard, 14-digit sequence (see id.ts).
  v_base := v_environment::bigint * 1000000000000000000 + p_microshard::bigint * 100000000000000;
  EXECUTE format('CREATE SCHEMA %I', v_schema);
  EXECUTE format('CREATE SEQUENCE %I.archipelago_id_seq AS bigint MINVALUE 1 MAXVALUE 99999999999999 NO CYCLE', v_schema);
  -- A SQL-standard body binds the sequence by OID at creation, so the function keeps using its own
  -- schema's sequence whatever search_path the caller has.
  EXECUTE format(
    'CREATE FUNCTION %I.archipelago_next_id() RETURNS bigint LANGUAGE sql VOLATILE BEGIN ATOMIC SELECT %s::bigint + nextval(%L::regclass); END',
    v_schema, v_base, v_schema || '.archipelago_id_seq');
  EXECUTE format(
    'CREATE TABLE %I.archipelago_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    v_schema);
  INSERT INTO archipelago.microshards (microshard, state, generation, weight_factor, schema_name)
    VALUES (p_microshard, 'active', 1, p_weight_factor, v_schema);
  RETURN 'created';
END
$fn$;
`;

const v2 = `
-- A copy of the whole cluster's placement, published to every island by the allocator and the shard
-- manager, so that any node can answer where every microshard lives. The epoch only grows: a publish
-- with an epoch not newer than the stored one is ignored, so racing or late publishers cannot roll the
-- map back. The per-island catalog (archipelago.microshards) stays the authority; this is a view of it.
CREATE TABLE archipelago.cluster_map_epoch (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  epoch bigint NOT NULL CHECK (epoch >= 0),
  published_at timestamptz
);
INSERT INTO archipelago.cluster_map_epoch (epoch) VALUES (0);

CREATE TABLE archipelago.cluster_map (
  microshard integer NOT NULL CHECK (microshard BETWEEN 0 AND 9999),
  island integer NOT NULL CHECK (island >= 1),
  state text NOT NULL CHECK (state IN ('active', 'receiving', 'sent', 'garbage')),
  generation integer NOT NULL CHECK (generation >= 1),
  PRIMARY KEY (microshard, island)
);

CREATE VIEW archipelago.cluster_map_active AS
  SELECT m.microshard, m.island, m.generation, e.epoch
  FROM archipelago.cluster_map m CROSS JOIN archipelago.cluster_map_epoch e
  WHERE m.state = 'active';

-- p_entries: a JSON array of {microshard, island, state, generation}. Returns false (and changes
-- nothing) when the stored epoch is already at least p_epoch.
CREATE FUNCTION archipelago.publish_cluster_map(p_epoch bigint, p_entries jsonb)
RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  v_epoch bigint;
BEGIN
  SELECT epoch INTO STRICT v_epoch FROM archipelago.cluster_map_epoch FOR UPDATE;
  IF p_epoch <= v_epoch THEN
    RETURN false;
  END IF;
  DELETE FROM archipelago.cluster_map;
  INSERT INTO archipelago.cluster_map (microshard, island, state, generation)
    SELECT microshard, island, state, generation
    FROM jsonb_to_recordset(p_entries) AS e(microshard integer, island integer, state text, generation integer);
  UPDATE archipelago.cluster_map_epoch SET epoch = p_epoch, published_at = now();
  RETURN true;
END
$fn$;
`;

const v3 = `
-- Jobs of the shard manager (moves now; rebalance, drain, allocate and cleanup later). They live in the
-- control catalog (the global island's master); the tables exist on every island so that any island
-- can take that role. A job's step and checkpoint are written BEFORE the step runs, so a restarted
-- mover knows where it was; history is a capped list of timestamped transitions.
CREATE TABLE archipelago.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('move', 'rebalance', 'drain', 'allocate', 'cleanup')),
  parent_id bigint REFERENCES archipelago.jobs (id),
  state text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'running', 'stopped', 'failed', 'completed')),
  state_reason text,
  microshard integer CHECK (microshard BETWEEN 0 AND 9999),
  source_island integer,
  target_island integer,
  step text NOT NULL DEFAULT 'new',
  checkpoint jsonb NOT NULL DEFAULT '{}',
  history jsonb NOT NULL DEFAULT '[]',
  error jsonb,
  write_block_ms double precision,
  owner text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Two moves never run on the same microshard at once.
CREATE UNIQUE INDEX jobs_one_live_move_per_microshard ON archipelago.jobs (microshard)
  WHERE type = 'move' AND state IN ('new', 'running', 'stopped');

-- The cleanup log: every database object a move creates is recorded here BEFORE it is created, so a
-- crash at any point leaves a list of what may exist and must be dropped (no orphaned slots).
CREATE TABLE archipelago.move_objects (
  job_id bigint NOT NULL REFERENCES archipelago.jobs (id),
  island integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('schema', 'publication', 'slot', 'subscription')),
  name text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  dropped_at timestamptz,
  PRIMARY KEY (job_id, island, kind, name)
);

-- The shard manager's global switch, with the reason it was last set.
CREATE TABLE archipelago.manager_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  state text NOT NULL CHECK (state IN ('running', 'stopped')),
  reason text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO archipelago.manager_state (state, reason) VALUES ('running', 'installed');
`;

const v4 = `
-- Who stopped a stopped job. An operator's stop outlasts a global stop/start; a job stopped by the
-- global switch starts again when the switch goes back to running.
ALTER TABLE archipelago.jobs ADD COLUMN stopped_by text CHECK (stopped_by IN ('operator', 'global'));
-- What a parent job was asked for (a rebalance's threshold, the island a drain empties, a count).
ALTER TABLE archipelago.jobs ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
CREATE INDEX jobs_by_parent ON archipelago.jobs (parent_id) WHERE parent_id IS NOT NULL;
-- One live rebalance or drain at a time: two plans made from the same sizes would fight.
CREATE UNIQUE INDEX jobs_one_live_rebalance ON archipelago.jobs ((true))
  WHERE type IN ('rebalance', 'drain') AND state IN ('new', 'running', 'stopped');

-- Islands an operator marked draining (in addition to the config's flag): they receive nothing and
-- are emptied; the mark stays until it is lifted, so a drained island is never refilled.
CREATE TABLE archipelago.draining_islands (
  island integer PRIMARY KEY,
  reason text,
  since timestamptz NOT NULL DEFAULT now()
);

-- The leading manager (for operators; leadership itself is an advisory lock) and its last measurement.
ALTER TABLE archipelago.manager_state
  ADD COLUMN leader text,
  ADD COLUMN leader_since timestamptz,
  ADD COLUMN heartbeat_at timestamptz,
  ADD COLUMN measurement jsonb;
`;

/** Every catalog version, oldest first. The last one is what this code installs. */
export const CATALOG_VERSIONS: readonly CatalogVersion[] = Object.freeze([
  {
    version: 1,
    description: "island identity, microshard states with a transition guard, allocation",
    sql: v1,
  },
  { version: 2, description: "cluster map with a monotonic epoch", sql: v2 },
  {
    version: 3,
    description: "shard manager jobs, the move cleanup log, the global run state",
    sql: v3,
  },
  {
    version: 4,
    description:
      "job control (who stopped a job, parent jobs), draining islands, manager leadership",
    sql: v4,
  },
]);

export const LATEST_CATALOG_VERSION = CATALOG_VERSIONS.length;
