import { allowAll, defineEnt } from "@archipelago/ent";
import { z } from "zod";

/**
 * A billing plan. Global (shard 0): a handful of rows that every request reads, so they live in one
 * place and are cached in process for up to 30 s; this process's own writes clear the cache at once.
 * Anyone may read plans; only the omni viewer (an admin job) writes them (no write rules).
 */
export const Plan = defineEnt({
  name: "Plan",
  table: "plans",
  fields: {
    code: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string().min(1),
    maxMembers: z.number().int().positive(),
    priceCents: z.bigint().nonnegative(),
    features: z.record(z.string(), z.boolean()),
  },
  shard: "global",
  unique: [["code"]],
  cache: { maxAgeMs: 30_000 },
  privacy: { read: [allowAll] },
});
