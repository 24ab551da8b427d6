-- Comments live beside their topic (same microshard); "comments by this author" goes through
-- ent_inverses (0104) instead of visiting every microshard.
CREATE TABLE comments (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  topic_id bigint NOT NULL,
  author_id bigint NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_topic_id_idx ON comments (topic_id, created_at);
