import { dbDefault, defineEnt, idField, type Viewer } from "@archipelago/ent";
import { z } from "zod";
import { viewerUser } from "./user.js";
import { Workspace } from "./workspace.js";

/** Members read their workspace's topics; anyone reads a public workspace's. */
async function canSeeWorkspace(vc: Viewer, workspaceId: string): Promise<boolean> {
  if ((await viewerUser(vc))?.workspaceId === workspaceId) return true;
  return (await Workspace.loadNullable(vc.toOmni(), workspaceId))?.isPublic ?? false;
}

/**
 * A discussion topic. Colocated with its workspace (`{ colocate: "workspaceId" }`): its ID comes from
 * the workspace's microshard, so a workspace's topics are one microshard's rows and listing them is one
 * statement on one island.
 */
export const Topic = defineEnt({
  name: "Topic",
  table: "topics",
  fields: {
    workspaceId: idField(),
    authorId: idField(),
    title: z.string().min(1).max(200),
    createdAt: dbDefault(z.date()),
  },
  shard: { colocate: "workspaceId" },
  privacy: {
    read: [
      { name: "workspace visible", allowIf: (vc, row) => canSeeWorkspace(vc, row.workspaceId) },
    ],
    write: [
      { name: "author", require: (vc, row) => vc.principal === row.authorId },
      {
        name: "member",
        require: async (vc, row) => (await viewerUser(vc))?.workspaceId === row.workspaceId,
      },
    ],
  },
});

export { canSeeWorkspace };
