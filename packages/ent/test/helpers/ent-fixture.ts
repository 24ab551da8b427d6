/**
 * A real cluster for the entity tests: the catalog, shard 0 and `microshards` microshards with the
 * tables of `test-entities.ts`, and a client on it. One per test file.
 */
import type { ClusterOptions } from "@archipelago/client";
import { type Migration, parseMigration } from "@archipelago/migrate";
import type { LocalClusterOptions } from "@archipelago/testkit";
import {
  type ClientFixture,
  startClientFixture,
} from "../../../../test/helpers/cluster-fixture.js";

export const ENT_TEST_MIGRATIONS: readonly Migration[] = [
  parseMigration(
    "0001_plans.global.sql",
    `CREATE TABLE plans (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       code text NOT NULL UNIQUE,
       name text NOT NULL,
       max_members integer NOT NULL,
       price_cents bigint NOT NULL
     );`,
  ),
  parseMigration(
    "0002_workspaces.sharded.sql",
    `CREATE TABLE workspaces (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       slug text NOT NULL UNIQUE,
       name text NOT NULL,
       plan_id bigint,
       settings jsonb NOT NULL DEFAULT '{}',
       archived boolean NOT NULL DEFAULT false,
       version integer NOT NULL DEFAULT 1,
       created_at timestamptz NOT NULL DEFAULT now()
     );`,
  ),
  parseMigration(
    "0003_users.sharded.sql",
    `CREATE TABLE users (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       email text NOT NULL UNIQUE,
       name text NOT NULL,
       workspace_id bigint NOT NULL
     );`,
  ),
  parseMigration(
    "0004_topics.sharded.sql",
    `CREATE TABLE topics (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       workspace_id bigint NOT NULL,
       author_id bigint NOT NULL,
       title text NOT NULL,
       status text NOT NULL DEFAULT 'open',
       score integer NOT NULL DEFAULT 0,
       views bigint NOT NULL DEFAULT 0,
       closed_at timestamptz,
       created_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (workspace_id, title)
     );`,
  ),
  parseMigration(
    "0005_comments.sharded.sql",
    `CREATE TABLE comments (
       id bigint PRIMARY KEY DEFAULT archipelago_next_id(),
       topic_id bigint NOT NULL,
       author_id bigint NOT NULL,
       body text NOT NULL CHECK (body <> 'forbidden'),
       created_at timestamptz NOT NULL DEFAULT now()
     );`,
  ),
  parseMigration(
    "0006_ent_inverses.all.sql",
    `CREATE TABLE ent_inverses (
       type text NOT NULL,
       id1 bigint NOT NULL,
       id2 bigint NOT NULL,
       PRIMARY KEY (type, id1, id2)
     );`,
  ),
];

export type EntFixture = ClientFixture;

/** The shared client fixture with the entity tests' tables (shard 0 and every microshard). */
export function startEntFixture(
  shape: LocalClusterOptions & { microshards: number },
  clientOptions: ClusterOptions = {},
  migrations: readonly Migration[] = ENT_TEST_MIGRATIONS,
): Promise<EntFixture> {
  return startClientFixture(shape, clientOptions, migrations);
}
