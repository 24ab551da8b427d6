/**
 * A small multi-tenant app on @archipelago/ent: plans in shard 0 (cached), workspaces placed by slug,
 * users placed by email, topics beside their workspace, comments beside their topic with an inverse by
 * author. Tables: examples/migrations 0002 (users) and 0003 (topics), and this folder's migrations/
 * (plans, workspaces, comments, ent_inverses); `exampleAppMigrations()` loads both. Guide:
 * docs/entities.md.
 */
export { Comment } from "./entities/comment.js";
export { Plan } from "./entities/plan.js";
export { Topic } from "./entities/topic.js";
export { User, type UserRow, viewerUser } from "./entities/user.js";
export { Workspace } from "./entities/workspace.js";
export { exampleAppMigrations } from "./migrations.js";
