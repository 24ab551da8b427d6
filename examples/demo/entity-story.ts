/**
 * The entity layer's part of the demo: the example app's entities (examples/app) on a running cluster.
 *
 * It writes a few thousand rows across microshards as real users would (each topic and comment by its
 * author's viewer, through the privacy rules), reads a sharded workspace's global plan from shard 0
 * without saying where it lives, finds one author's comments through the inverse, and prints where
 * every row landed.
 *
 * It needs the tables of `exampleAppMigrations()` (examples/migrations plus examples/app/migrations) in
 * shard 0 and every microshard. By default it deploys them first, as an app's deploy step would
 * (`runMigrations`: a no-op for schemas that have them; it waits for the migrations lock, which moves
 * hold). Microshards allocated later must be allocated with the same list. Run it once per cluster:
 * slugs and emails are unique.
 */
import type { Cluster, QueryEvent } from "@archipelago/client";
import { EntNotReadableError, Viewer } from "@archipelago/ent";
import { IslandMasters, runMigrations } from "@archipelago/migrate";
import { microshardOfId } from "@archipelago/topology";
import { Comment, exampleAppMigrations, Plan, Topic, User, Workspace } from "../app/index.js";

export { exampleAppMigrations } from "../app/index.js";

export interface EntityStoryOptions {
  /** @default 24 */
  readonly workspaces?: number;
  /** @default 8 */
  readonly usersPerWorkspace?: number;
  /** @default 20 */
  readonly topicsPerWorkspace?: number;
  /** @default 2000 */
  readonly comments?: number;
  /** Deploy the app's migrations first. @default true */
  readonly migrate?: boolean;
  /** Where lines go. @default console.log */
  readonly log?: (line: string) => void;
}

type Kind = "plans" | "workspaces" | "users" | "topics" | "comments";
const KINDS: readonly Kind[] = ["plans", "workspaces", "users", "topics", "comments"];

export interface EntityStoryReport {
  /** Rows written, by entity. */
  readonly rows: Readonly<Record<Kind, number>>;
  /** Rows per island (shard 0 counted on its island), by entity, from the IDs. */
  readonly islands: readonly {
    readonly island: number;
    readonly microshards: readonly number[];
    readonly rows: Readonly<Record<Kind, number>>;
  }[];
  /** Every topic is in its workspace's microshard and every comment in its topic's. */
  readonly colocated: boolean;
  /** One author's comments: how many, in how many microshards, and how many microshards were asked. */
  readonly authorComments: {
    readonly found: number;
    readonly microshards: number;
    readonly visited: number;
    readonly total: number;
  };
  /** A member of one private workspace was refused another private workspace's topic. */
  readonly privacyDenied: boolean;
}

/** Writes `work` in waves of `size`: each wave's inserts are batched by the client per island. */
async function inWaves<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  }
  return results;
}

export async function runEntityStory(
  cluster: Cluster,
  options: EntityStoryOptions = {},
): Promise<EntityStoryReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const workspaceCount = options.workspaces ?? 24;
  const usersPerWorkspace = options.usersPerWorkspace ?? 8;
  const topicsPerWorkspace = options.topicsPerWorkspace ?? 20;
  const commentCount = options.comments ?? 2000;
  // One session for the whole story, so every read sees the story's own writes (read-after-write).
  const session = cluster.session();
  const system = Viewer.omni(cluster, { session });
  const as = (userId: string) => Viewer.of(cluster, userId, { session });
  const written: Record<Kind, string[]> = {
    plans: [],
    workspaces: [],
    users: [],
    topics: [],
    comments: [],
  };
  const started = performance.now();

  log(
    "Entities: plans in shard 0, workspaces and users placed by key, topics and comments colocated",
  );
  if (options.migrate ?? true) {
    const masters = new IslandMasters(cluster.config);
    try {
      const report = await runMigrations(masters, { migrations: exampleAppMigrations() });
      log(
        `  deployed the app's migrations: ${report.applied} versions applied over ${report.schemas} schemas`,
      );
    } finally {
      await masters.end();
    }
  }
  for (const [code, name, maxMembers, priceCents] of [
    ["free", "Free", 5, 0n],
    ["team", "Team", 50, 1_200n],
    ["business", "Business", 500, 9_900n],
  ] as const) {
    written.plans.push(
      await Plan.upsert(system, {
        code,
        name,
        maxMembers,
        priceCents,
        features: { sso: code === "business" },
      }),
    );
  }

  const workspaces = await inWaves(
    Array.from({ length: workspaceCount }, (_, i) => i),
    100,
    async (i) => {
      const slug = `ws-${String(i + 1).padStart(3, "0")}`;
      const id = await Workspace.insert(system, {
        slug,
        name: `Workspace ${i + 1}`,
        planId: written.plans[i % written.plans.length] as string,
        // Every fourth workspace is public: anyone may read and comment on its topics.
        isPublic: i % 4 === 0,
      });
      return { id, slug, isPublic: i % 4 === 0 };
    },
  );
  written.workspaces.push(...workspaces.map((w) => w.id));

  const users = await inWaves(
    workspaces.flatMap((w) => Array.from({ length: usersPerWorkspace }, (_, u) => ({ w, u }))),
    100,
    async ({ w, u }) => {
      const email = `user-${u + 1}@${w.slug}.example`;
      const id = await User.insert(system, { workspaceId: w.id, email, name: `User ${u + 1}` });
      return { id, workspace: w };
    },
  );
  written.users.push(...users.map((u) => u.id));

  // Topics by their authors, through the write rules (author, member of the workspace).
  const topics = await inWaves(
    workspaces.flatMap((w) => {
      const members = users.filter((u) => u.workspace === w);
      return Array.from({ length: topicsPerWorkspace }, (_, t) => ({
        w,
        t,
        author: members[t % members.length] as (typeof users)[number],
      }));
    }),
    100,
    async ({ w, t, author }) => {
      const id = await Topic.insert(as(author.id), {
        workspaceId: w.id,
        authorId: author.id,
        title: `Topic ${t + 1} of ${w.slug}`,
      });
      return { id, workspace: w };
    },
  );
  written.topics.push(...topics.map((t) => t.id));

  // Comments: a user comments on topics of their own workspace or of a public one, so one author's
  // comments spread over many microshards.
  const publicTopics = topics.filter((t) => t.workspace.isPublic);
  // A small deterministic generator (mulberry32), so every run writes the same story.
  let seed = 7;
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
  const comments = await inWaves(
    Array.from({ length: commentCount }, (_, c) => {
      const author = users[next(users.length)] as (typeof users)[number];
      const own = topics.filter((t) => t.workspace === author.workspace);
      const pool = c % 3 === 0 && publicTopics.length > 0 ? publicTopics : own;
      return { c, author, topic: pool[next(pool.length)] as (typeof topics)[number] };
    }),
    100,
    async ({ c, author, topic }) => ({
      id: await Comment.insert(as(author.id), {
        topicId: topic.id,
        authorId: author.id,
        body: `Comment ${c + 1}`,
      }),
      topic,
      author,
    }),
  );
  written.comments.push(...comments.map((c) => c.id));
  const total = KINDS.reduce((n, k) => n + written[k].length, 0);
  log(
    `  wrote ${total} rows in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
      KINDS.map((k) => `${written[k].length} ${k}`).join(", "),
  );

  // Colocation, checked from the IDs alone.
  const colocated =
    topics.every((t) => microshardOfId(t.id) === microshardOfId(t.workspace.id)) &&
    comments.every((c) => microshardOfId(c.id) === microshardOfId(c.topic.id));
  log(`  every topic in its workspace's microshard, every comment in its topic's: ${colocated}`);

  // Shard 0, transparently: a member loads their workspace (a microshard), then its plan (shard 0).
  const member = users[1] as (typeof users)[number];
  const vc = as(member.id);
  const workspace = await Workspace.load(vc, member.workspace.id);
  const plan = workspace.planId === null ? null : await Plan.load(vc, workspace.planId);
  log(
    `  ${workspace.slug} lives in microshard ${microshardOfId(workspace.id)}; its plan "${plan?.name}" ` +
      `in shard 0 (microshard ${plan ? microshardOfId(plan.id) : "-"}), loaded with the same call`,
  );
  const latest = await Topic.select(vc, {
    where: { workspaceId: workspace.id },
    // Rows written by one batched statement share a timestamp: the ID breaks the tie.
    order: [
      ["createdAt", "desc"],
      ["id", "desc"],
    ],
    limit: 3,
  });
  log(
    `  its newest topics (one statement, one microshard): ${latest.map((t) => t.title).join("; ")}`,
  );

  // One author's comments, found through the inverse: only the microshards that have some are asked.
  const visitedMicroshards = new Set<number>();
  const onQuery = (e: QueryEvent) => {
    for (const m of e.microshards) visitedMicroshards.add(m);
  };
  const busiest = [
    ...comments.reduce(
      (m, c) => m.set(c.author.id, (m.get(c.author.id) ?? 0) + 1),
      new Map<string, number>(),
    ),
  ].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
  cluster.events.on("query", onQuery);
  let mine: Awaited<ReturnType<typeof Comment.select>>;
  try {
    mine = await Comment.select(as(busiest), { where: { authorId: busiest }, limit: 1000 });
  } finally {
    cluster.events.off("query", onQuery);
  }
  const totalMicroshards = cluster.map.microshards().filter((m) => m !== 0).length;
  const authorComments = {
    found: mine.length,
    microshards: new Set(mine.map((c) => microshardOfId(c.id))).size,
    visited: visitedMicroshards.size,
    total: totalMicroshards,
  };
  log(
    `  user ${busiest}: ${authorComments.found} comments in ${authorComments.microshards} microshards, ` +
      `found by asking ${authorComments.visited} of ${totalMicroshards} microshards (inverse by author)`,
  );

  // Privacy: a member of one private workspace cannot read another private workspace's topic.
  const privateTopic = topics.find(
    (t) => !t.workspace.isPublic && t.workspace !== member.workspace,
  );
  let privacyDenied = false;
  if (privateTopic) {
    privacyDenied = await Topic.load(vc, privateTopic.id).then(
      () => false,
      (error: unknown) => error instanceof EntNotReadableError,
    );
    log(
      `  another tenant's private topic: ${privacyDenied ? "EntNotReadableError" : "READABLE (bug)"}`,
    );
  }

  // Where every row landed, from the IDs: microshard → island.
  const byIsland = new Map<number, { microshards: Set<number>; rows: Record<Kind, number> }>();
  for (const kind of KINDS) {
    for (const id of written[kind]) {
      const microshard = microshardOfId(id);
      const placement = cluster.map.locate(microshard);
      const island = placement.kind === "active" ? placement.island : -1;
      let entry = byIsland.get(island);
      if (!entry) {
        entry = {
          microshards: new Set(),
          rows: { plans: 0, workspaces: 0, users: 0, topics: 0, comments: 0 },
        };
        byIsland.set(island, entry);
      }
      entry.microshards.add(microshard);
      entry.rows[kind]++;
    }
  }
  const islands = [...byIsland]
    .sort((a, b) => a[0] - b[0])
    .map(([island, e]) => ({
      island,
      microshards: [...e.microshards].sort((a, b) => a - b),
      rows: e.rows,
    }));
  log("  where the rows landed:");
  for (const i of islands) {
    log(
      `    island ${i.island}: microshards ${i.microshards.join(",")} — ` +
        KINDS.map((k) => `${i.rows[k]} ${k}`).join(", "),
    );
  }
  return {
    rows: Object.fromEntries(KINDS.map((k) => [k, written[k].length])) as Record<Kind, number>,
    islands,
    colocated,
    authorComments,
    privacyDenied,
  };
}
