CREATE TABLE users (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  workspace_id bigint NOT NULL,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
