/**
 * The entities the tests use: a global plan (cached), sharded workspaces placed by slug, users placed
 * by email, topics colocated with their workspace, comments colocated with their topic and found by
 * author through an inverse. Privacy: a workspace member reads the workspace's topics and comments.
 * Triggers record what fired into `fired`, so tests can check the order.
 */
import { z } from "zod";
import { allowAll, dbDefault, defineEnt, idField } from "../../src/index.js";

export const fired: string[] = [];

export const Plan = defineEnt({
  name: "Plan",
  table: "plans",
  fields: {
    code: z.string().min(1),
    name: z.string(),
    maxMembers: z.number().int().positive(),
    priceCents: z.bigint(),
  },
  shard: "global",
  unique: [["code"]],
  cache: { maxAgeMs: 60_000 },
  privacy: { read: [allowAll] },
});

export const Workspace = defineEnt({
  name: "Workspace",
  table: "workspaces",
  fields: {
    slug: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string().min(1),
    planId: idField().nullable(),
    settings: dbDefault(z.object({ theme: z.string().optional() }).passthrough()),
    archived: dbDefault(z.boolean()),
    version: dbDefault(z.number().int()),
    createdAt: dbDefault(z.date()),
  },
  shard: { random: ["slug"] },
  unique: [["slug"]],
  privacy: {
    read: [
      { name: "archived", denyIf: (_vc, row) => row.archived },
      { name: "public", allowIf: () => true },
    ],
  },
});

export const User = defineEnt({
  name: "User",
  table: "users",
  fields: {
    email: z.email(),
    name: z.string(),
    workspaceId: idField(),
  },
  shard: { random: ["email"] },
  unique: [["email"]],
  privacy: {
    read: [{ name: "self", allowIf: (vc, row) => vc.principal === row.id }],
    write: [{ name: "self", require: (vc, row) => vc.principal === row.id }],
  },
});

/** Members of a workspace may read its topics; only the author may change a topic. */
async function isMember(vc: import("../../src/index.js").Viewer, workspaceId: string) {
  if (vc.principal === null) return false;
  const user = await User.loadNullable(vc.toOmni(), vc.principal);
  return user?.workspaceId === workspaceId;
}

export const Topic = defineEnt({
  name: "Topic",
  table: "topics",
  fields: {
    workspaceId: idField(),
    authorId: idField(),
    title: z.string().min(1),
    status: dbDefault(z.enum(["open", "closed"])),
    score: dbDefault(z.number().int()),
    views: dbDefault(z.bigint()),
    closedAt: z.date().nullable(),
    createdAt: dbDefault(z.date()),
  },
  shard: { colocate: "workspaceId" },
  unique: [["workspaceId", "title"]],
  privacy: {
    read: [{ name: "member", allowIf: (vc, row) => isMember(vc, row.workspaceId) }],
    write: [
      { name: "member", require: (vc, row) => isMember(vc, row.workspaceId) },
      { name: "author", require: (vc, row) => vc.principal === row.authorId },
    ],
  },
  triggers: {
    beforeInsert: [
      (_vc, input) => {
        fired.push(`beforeInsert:${input.title}`);
        return input.title.startsWith("!") ? { title: input.title.slice(1) } : undefined;
      },
      (_vc, input) => {
        fired.push(`beforeInsert2:${input.title}`);
      },
    ],
    afterInsert: [(_vc, row) => void fired.push(`afterInsert:${row.title}`)],
    beforeUpdate: [
      (_vc, { changed, changes }) => {
        fired.push(`beforeUpdate:${changed.join(",")}`);
        return changes.status === "closed"
          ? { closedAt: new Date("2026-01-01T00:00:00Z") }
          : undefined;
      },
    ],
    afterUpdate: [(_vc, { changed }) => void fired.push(`afterUpdate:${changed.join(",")}`)],
    beforeDelete: [(_vc, row) => void fired.push(`beforeDelete:${row.title}`)],
    afterDelete: [(_vc, row) => void fired.push(`afterDelete:${row.title}`)],
  },
});

export const Comment = defineEnt({
  name: "Comment",
  table: "comments",
  fields: {
    topicId: idField(),
    authorId: idField(),
    body: z.string(),
    createdAt: dbDefault(z.date()),
  },
  shard: { colocate: "topicId" },
  inverses: ["authorId"],
  privacy: {
    read: [{ name: "author", allowIf: (vc, row) => vc.principal === row.authorId }],
    write: [{ name: "author", require: (vc, row) => vc.principal === row.authorId }],
  },
});
