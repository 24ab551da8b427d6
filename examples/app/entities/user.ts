import { dbDefault, defineEnt, type EntRow, idField, type Viewer } from "@archipelago/ent";
import { z } from "zod";

/**
 * A person, member of one workspace. Placed by email (`{ random: ["email"] }`, unique cluster-wide
 * like a workspace's slug), not beside the workspace: a user is looked up by email at sign-in, before
 * any workspace is known.
 */
export const User = defineEnt({
  name: "User",
  table: "users",
  fields: {
    workspaceId: idField(),
    email: z.email(),
    name: z.string().min(1),
    createdAt: dbDefault(z.date()),
  },
  shard: { random: ["email"] },
  unique: [["email"]],
  privacy: {
    read: [
      { name: "self", allowIf: (vc, row) => vc.principal === row.id },
      {
        name: "same workspace",
        allowIf: async (vc, row): Promise<boolean> =>
          (await viewerUser(vc))?.workspaceId === row.workspaceId,
      },
    ],
    write: [{ name: "self", require: (vc, row) => vc.principal === row.id }],
  },
});

export type UserRow = EntRow<typeof User>;

/**
 * The viewer's own user row (its ID and workspace), for privacy rules. Loaded as omni (a rule must not depend on rules), in
 * the viewer's session and cache, so a request's rules load it once.
 */
export async function viewerUser(
  vc: Viewer,
): Promise<{ readonly id: string; readonly workspaceId: string } | null> {
  return vc.principal === null ? null : User.loadNullable(vc.toOmni(), vc.principal);
}
