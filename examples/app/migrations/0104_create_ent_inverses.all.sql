-- The entity layer's reverse lookups (@archipelago/ent, inverses): a row (type, id1, id2) in the
-- microshard of id1 says "an entity of this type with ID id2 points at id1". In every schema, shard 0
-- included, because id1 may be a global entity's ID.
CREATE TABLE ent_inverses (
  type text NOT NULL,
  id1 bigint NOT NULL,
  id2 bigint NOT NULL,
  PRIMARY KEY (type, id1, id2)
);
