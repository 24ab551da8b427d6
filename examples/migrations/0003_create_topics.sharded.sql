CREATE TABLE topics (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  workspace_id bigint NOT NULL,
  author_id bigint NOT NULL,
  title text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX topics_workspace_id_idx ON topics (workspace_id, created_at);
