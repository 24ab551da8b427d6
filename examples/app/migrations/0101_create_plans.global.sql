-- Shard 0: billing plans. Few rows, read on every request, written by admins: a global entity with an
-- in-process cache (examples/app/entities/plan.ts).
CREATE TABLE plans (
  id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  max_members integer NOT NULL,
  price_cents bigint NOT NULL,
  features jsonb NOT NULL DEFAULT '{}'
);
