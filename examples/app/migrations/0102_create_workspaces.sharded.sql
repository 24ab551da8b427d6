-- The entity layer's workspaces live in microshards, so that a workspace's topics and comments can live
-- beside it (colocation) and tenants spread over islands. A workspace goes to the microshard its slug
-- hashes to, so its slug is unique cluster-wide (examples/app/entities/workspace.ts). Shard 0's
-- `workspaces` table (examples/migrations/0001) is the demo's earlier
-- tenant directory, written by hand in its first steps.
CREATE TABLE workspaces (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  plan_id bigint,
  is_public boolean NOT NULL DEFAULT false,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
