-- Every schema, shard 0 included, records when it was last touched by a deploy.
CREATE TABLE deploy_marks (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
