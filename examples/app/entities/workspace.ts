import { dbDefault, defineEnt, idField } from "@archipelago/ent";
import { z } from "zod";
import { viewerUser } from "./user.js";

/**
 * A tenant. Sharded, placed by its slug (`{ random: ["slug"] }`): the microshard is a hash of the slug,
 * so two sign-ups racing for one slug meet in one microshard, where its UNIQUE constraint lets one win,
 * and `loadBy({ slug })` asks one microshard. Its topics and comments live beside it.
 *
 * Rejected: workspaces in shard 0. Every request reads its workspace, so shard 0's island would carry
 * every tenant's traffic, and children could not be colocated with a row that is not in a microshard.
 */
export const Workspace = defineEnt({
  name: "Workspace",
  table: "workspaces",
  fields: {
    slug: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string().min(1),
    /** A global Plan: loads transparently from shard 0. */
    planId: idField().nullable(),
    isPublic: dbDefault(z.boolean()),
    settings: dbDefault(z.object({ theme: z.enum(["light", "dark"]).optional() })),
    createdAt: dbDefault(z.date()),
  },
  shard: { random: ["slug"] },
  unique: [["slug"]],
  privacy: {
    read: [
      { name: "public", allowIf: (_vc, row) => row.isPublic },
      {
        name: "member",
        allowIf: async (vc, row) => (await viewerUser(vc))?.workspaceId === row.id,
      },
    ],
    // No write rules: workspaces are created and changed by the omni viewer (sign-up, admin).
  },
});
