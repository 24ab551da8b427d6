-- Shard 0: tenants are global, so that any request can find its workspace without knowing a microshard.
CREATE TABLE workspaces (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
