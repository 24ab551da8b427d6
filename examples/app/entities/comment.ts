import { dbDefault, defineEnt, idField } from "@archipelago/ent";
import { z } from "zod";
import { canSeeWorkspace, Topic } from "./topic.js";

/**
 * A comment on a topic, colocated with the topic (`{ colocate: "topicId" }`), so a topic's thread is
 * one microshard's rows. Anyone who can see a topic may comment on it, so a user's comments end up in
 * many workspaces' microshards: the inverse on `authorId` keeps "comments by this author" to the
 * microshards that have some, instead of all of them.
 */
export const Comment = defineEnt({
  name: "Comment",
  table: "comments",
  fields: {
    topicId: idField(),
    authorId: idField(),
    body: z.string().min(1).max(10_000),
    createdAt: dbDefault(z.date()),
  },
  shard: { colocate: "topicId" },
  inverses: ["authorId"],
  privacy: {
    read: [
      { name: "author", allowIf: (vc, row) => vc.principal === row.authorId },
      {
        name: "topic visible",
        allowIf: async (vc, row) => {
          const topic = await Topic.loadNullable(vc.toOmni(), row.topicId);
          return topic !== null && (await canSeeWorkspace(vc, topic.workspaceId));
        },
      },
    ],
    write: [
      { name: "author", require: (vc, row) => vc.principal === row.authorId },
      {
        name: "topic visible",
        require: async (vc, row) => {
          const topic = await Topic.loadNullable(vc.toOmni(), row.topicId);
          return topic !== null && (await canSeeWorkspace(vc, topic.workspaceId));
        },
      },
    ],
  },
});
